#include "daemon/checkd/export_files.hpp"

#include "daemon/atomic_file.hpp"
#include "daemon/export_nfd.hpp"
#include "daemon/export_prometheus.hpp"

#include <chrono>

namespace halo::checkd {

std::vector<std::string> write_export_files(const app::ExportConfig& config, const app::ExportInput& input,
                                            std::time_t now, bool with_nfd)
{
    std::vector<std::string> errors;
    if (config.textfile) {
        if (auto ok = app::write_file_atomically(*config.textfile, app::format_prometheus(input), 0644,
                                                 app::Durability::unsynced);
            !ok)
            errors.push_back(ok.error().message + "; the Prometheus textfile keeps its last content");
    }
    if (config.nfd && with_nfd) {
        const auto interval = std::chrono::duration_cast<std::chrono::seconds>(config.interval).count();
        if (auto ok = app::write_file_atomically(*config.nfd, app::format_nfd(input, now + 2 * interval), 0644,
                                                 app::Durability::unsynced);
            !ok)
            errors.push_back(ok.error().message + "; the NFD labels expire unless a later write succeeds");
    }
    return errors;
}

} // namespace halo::checkd
