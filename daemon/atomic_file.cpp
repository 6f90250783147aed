#include "daemon/atomic_file.hpp"

#include "common/fd.hpp"

#include <fmt/core.h>

#include <cerrno>
#include <cstdio>
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

// ext4 writes a file's data out before a rename that replaces another file (auto_da_alloc, so a
// crash does not leave it empty): milliseconds on a slow disk, for every re-check. An unsynced
// file asks for no crash guarantee, so it swaps the two names instead (renameat2 with
// RENAME_EXCHANGE: readers still see the old file or the new, whole) and removes the old one.
// False when that does not apply (no regular file there yet, a file system without the
// exchange): the caller renames as usual.
bool replace_by_exchange(const std::string& temp, const std::filesystem::path& path)
{
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
    if (::renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, path.c_str(), RENAME_EXCHANGE) != 0) return false;
    // `temp` now names the old content. Failing to remove it leaves a dot-named file that neither
    // node_exporter (*.prom) nor nfd-worker (dot files) reads.
    (void)::unlink(temp.c_str());
    return true;
}

} // namespace

Result<void> write_file_atomically(const std::filesystem::path& path, std::string_view content, unsigned mode,
                                   Durability durability)
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
    const bool synced = durability == Durability::synced;
    if (synced && ::fsync(fd.get()) != 0) return fail("flush", errno);
    if (::close(fd.release()) != 0) return fail("close", errno);
    if (!synced && replace_by_exchange(temp, path)) return {};
    if (::rename(temp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(temp.c_str());
        return os_error("replace", path, err);
    }
    if (!synced) return {};
    // The rename itself lives in the directory: without this a power cut may undo it.
    halo::Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dfd.get() >= 0) (void)::fsync(dfd.get());
    return {};
}

} // namespace halo::app
