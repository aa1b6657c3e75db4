// What happens to grants when a domain dies.
//
// Xen (gnttab_release_mappings at domain_kill) unmaps the dying domain's own
// mappings of other domains' grants and drops their pins. Other domains' mappings
// of the dying domain's grants are not touched: the pages stay referenced, the
// dying domain lingers as a zombie until the mappers unmap, and their unmaps
// succeed. Keel does the same by default (ForeignMappings::Keep): the host keeps
// the domain's RAM until grants_drained() reports the last mapping gone. Because
// a backend that never unmaps would keep that RAM forever, the host can also
// revoke (ForeignMappings::Revoke): the mappers' stage-2 entries are removed at
// once (a later access faults in the mapper) and their handles stay allocated,
// "orphaned", until the mapper unmaps them, which then succeeds.
#pragma once

#include "gnttab/grant_domain.hpp"
#include "gnttab/grant_host.hpp"

namespace keel::gnttab {

enum class ForeignMappings { Keep, Revoke };

struct ReleaseSummary {
    unsigned own_unmapped = 0;     // the domain's mappings of other domains' grants, now gone
    unsigned foreign_revoked = 0;  // other domains' mappings of its grants, revoked
    unsigned still_pinned = 0;     // its grants other domains still hold (Keep)
    bool drained() const { return still_pinned == 0; }
};

// Marks `dying` so it neither grants nor maps any more, then releases as above.
// Call once the domain's vCPUs are all stopped. When the summary is drained()
// the host may call dying.destroy() at once; otherwise it waits for
// GrantHost::grants_drained() (or calls revoke_foreign_mappings()).
ReleaseSummary release_domain(GrantHost& host, GrantDomain& dying, ForeignMappings foreign);

// Revokes every other domain's mapping of `dying`'s grants now. Returns how many.
unsigned revoke_foreign_mappings(GrantHost& host, GrantDomain& dying);

} // namespace keel::gnttab
