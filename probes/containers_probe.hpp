#pragma once
// containers probe: the podman/toolbox containers and their images, for the user's rootless
// storage and for root's, read from containers/storage's own metadata files instead of running
// `podman` (bench/README-containers.md: ~0.3 ms against ~50 ms per podman call, and no process
// that can hang on a storage lock).
// Reads (all under the root prefix):
//   storage.conf: $CONTAINERS_STORAGE_CONF, $XDG_CONFIG_HOME/containers/storage.conf or
//     ~/.config/containers/storage.conf (user), /etc/containers/storage.conf,
//     /usr/share/containers/storage.conf ([storage] driver, graphroot, rootless_storage_path)
//   graphroots: $XDG_DATA_HOME/containers/storage or ~/.local/share/containers/storage (or, with
//     no $HOME, /home/*/.local/share/containers/storage), /var/lib/containers/storage
//   <graphroot>/<driver>-containers/containers.json, <driver>-images/images.json,
//   <driver>-images/<id>/=<base64 "sha256:<id>"> (image config: creation time),
//   <graphroot>/libpod/bolt_state.db or db.sql (scanned, not queried: labels and state)
// Privileges: none for the user's storage; root's storage is skipped when unreadable.
// Limits: images.json and containers.json over k_max_storage_json (8 MiB) are not read, and more
// than k_max_storage_entries (1,000) entries are refused: that storage's container.* and image.*
// keys are unknown, the status says which file and what to do.
// Feeds the container/image rules and the engine probe (engine.image.*). Introduced in 0.1.0.
// The parsers of those files are probes/containers_storage.hpp; this half finds and reads them.

#include "probes/probe.hpp"

namespace halo::probes {

extern const ProbeInfo k_containers_probe;

} // namespace halo::probes
