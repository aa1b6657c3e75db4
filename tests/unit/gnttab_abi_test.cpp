// The grant-table structures the hypervisor exchanges with guests must have the
// layout the C header gives an arm64 guest. gnttab/abi.hpp asserts the numbers
// at compile time (host and target); this test asks a C compiler, in the same
// build, for the Arm layout and compares it with the C++ one, field by field.
#include "gnttab/abi.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

struct keel_gnttab_c_field {
    const char* name;
    std::size_t type_size;
    std::size_t offset;
};

// Defined by gnttab_abi_layout.c (tests/unit/CMakeLists.txt compiles *_layout.c).
extern "C" {
extern const keel_gnttab_c_field keel_gnttab_c_layout[];
extern const std::size_t keel_gnttab_c_layout_count;
}

namespace {

#define FIELD(T, m) {#T "." #m, sizeof(T), offsetof(T, m)}

const keel_gnttab_c_field kCxxLayout[] = {
    FIELD(grant_entry_v1_t, flags),
    FIELD(grant_entry_v1_t, domid),
    FIELD(grant_entry_v1_t, frame),
    FIELD(gnttab_map_grant_ref_t, host_addr),
    FIELD(gnttab_map_grant_ref_t, flags),
    FIELD(gnttab_map_grant_ref_t, ref),
    FIELD(gnttab_map_grant_ref_t, dom),
    FIELD(gnttab_map_grant_ref_t, status),
    FIELD(gnttab_map_grant_ref_t, handle),
    FIELD(gnttab_map_grant_ref_t, dev_bus_addr),
    FIELD(gnttab_unmap_grant_ref_t, host_addr),
    FIELD(gnttab_unmap_grant_ref_t, dev_bus_addr),
    FIELD(gnttab_unmap_grant_ref_t, handle),
    FIELD(gnttab_unmap_grant_ref_t, status),
    FIELD(gnttab_setup_table_t, dom),
    FIELD(gnttab_setup_table_t, nr_frames),
    FIELD(gnttab_setup_table_t, status),
    FIELD(gnttab_setup_table_t, frame_list),
    FIELD(gnttab_copy_t, source.u.ref),
    FIELD(gnttab_copy_t, source.u.gmfn),
    FIELD(gnttab_copy_t, source.domid),
    FIELD(gnttab_copy_t, source.offset),
    FIELD(gnttab_copy_t, dest.u.ref),
    FIELD(gnttab_copy_t, dest.u.gmfn),
    FIELD(gnttab_copy_t, dest.domid),
    FIELD(gnttab_copy_t, dest.offset),
    FIELD(gnttab_copy_t, len),
    FIELD(gnttab_copy_t, flags),
    FIELD(gnttab_copy_t, status),
    FIELD(gnttab_query_size_t, dom),
    FIELD(gnttab_query_size_t, nr_frames),
    FIELD(gnttab_query_size_t, max_nr_frames),
    FIELD(gnttab_query_size_t, status),
    FIELD(gnttab_set_version_t, version),
    FIELD(gnttab_get_version_t, dom),
    FIELD(gnttab_get_version_t, pad),
    FIELD(gnttab_get_version_t, version),
};

#undef FIELD

} // namespace

TEST(GnttabAbi, CxxLayoutMatchesC)
{
    ASSERT_EQ(keel_gnttab_c_layout_count, std::size(kCxxLayout));
    for (std::size_t i = 0; i < std::size(kCxxLayout); ++i) {
        const keel_gnttab_c_field& c = keel_gnttab_c_layout[i];
        const keel_gnttab_c_field& cxx = kCxxLayout[i];
        ASSERT_STREQ(c.name, cxx.name);
        EXPECT_EQ(c.type_size, cxx.type_size) << "sizeof " << c.name;
        EXPECT_EQ(c.offset, cxx.offset) << "offsetof " << c.name;
    }
}

TEST(GnttabAbi, StatusCodesAreXens)
{
    using keel::gnttab::GrantStatus;
    using keel::gnttab::raw;
    EXPECT_EQ(raw(GrantStatus::okay), 0);
    EXPECT_EQ(raw(GrantStatus::general_error), -1);
    EXPECT_EQ(raw(GrantStatus::bad_domain), -2);
    EXPECT_EQ(raw(GrantStatus::bad_gntref), -3);
    EXPECT_EQ(raw(GrantStatus::bad_handle), -4);
    EXPECT_EQ(raw(GrantStatus::no_device_space), -7);
    EXPECT_EQ(raw(GrantStatus::permission_denied), -8);
    EXPECT_EQ(raw(GrantStatus::bad_page), -9);
    EXPECT_EQ(raw(GrantStatus::bad_copy_arg), -10);
    EXPECT_EQ(raw(GrantStatus::no_space), -13);
    EXPECT_EQ(GTF_reading, 1u << 3);
    EXPECT_EQ(GTF_writing, 1u << 4);
    EXPECT_EQ(DOMID_SELF, 0x7ff0);
}
