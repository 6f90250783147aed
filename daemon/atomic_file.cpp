#include "daemon/atomic_file.hpp"

#include "common/fd.hpp"

#include <fmt/core.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace halo::app {

namespace {

Error os_error(const char* what, const std::filesystem::path& path, int err)
{
    return Error{fmt::format("Failed to {} '{}': {}", what, path.string(), std::strerror(err)), err};
}

} // namespace

Result<void> write_file_atomically(const std::filesystem::path& path, std::string_view content, unsigned mode)
{
    const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    std::string temp = (dir / ("." + path.filename().string() + ".XXXXXX")).string();
    halo::Fd fd(::mkostemp(temp.data(), O_CLOEXEC));
    if (fd.get() < 0) return os_error("create a temporary file in", dir, errno);
    auto fail = [&](const char* what, int err) {
        ::unlink(temp.c_str());
        return os_error(what, temp, err);
    };
    if (::fchmod(fd.get(), static_cast<mode_t>(mode)) != 0) return fail("set the mode of", errno);
    for (std::size_t done = 0; done < content.size();) {
        const ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail("write", errno);
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0) return fail("flush", errno);
    if (::close(fd.release()) != 0) return fail("close", errno);
    if (::rename(temp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(temp.c_str());
        return os_error("replace", path, err);
    }
    // The rename itself lives in the directory: without this a power cut may undo it.
    halo::Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dfd.get() >= 0) (void)::fsync(dfd.get());
    return {};
}

} // namespace halo::app
