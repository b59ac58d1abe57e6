// `globusfs search TEXT [--limit N] [--json]`: finds collections by name
// with Transfer's endpoint_search (fs/remote/collection_search.h), as
// `globus endpoint search` does, and prints for each its id, display name,
// owner, kind (entity_type) and whether it has an HTTPS server (without
// one, globusfs shows its folders and copies to and from it, not its file
// contents).
//
// It needs no mount: it uses the login's Transfer token from the token
// store the daemon uses ($GLOBUSFS_CONFIG_DIR), refreshed when it expires
// (the refreshed tokens are saved, as the daemon does). Tokens are never
// printed.
//
// Exit codes: 0 (also when nothing matches), 1 an error (not logged in:
// the message names `globusfs-auth login`; Transfer unreachable or
// refusing), 2 a usage error.
#pragma once

namespace globusfs::fs {

int RunSearch(int argc, char** argv);  // argv[1] == "search"

}  // namespace globusfs::fs
