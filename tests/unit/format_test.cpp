#include <keel/format.hpp>
#include <keel/errno.hpp>
#include <keel/result.hpp>

#include <gtest/gtest.h>
#include <xen/errno.h>

using namespace keel;

TEST(Format, IntegersAndPadding)
{
    char buf[64];
    format(buf, sizeof buf, "%d %u %x %08lx %s %c%%", -42, 7u, 0xabcu, 0x1234ul, "hi", 'z');
    EXPECT_STREQ(buf, "-42 7 abc 00001234 hi z%");
}

TEST(Format, TruncatesButReportsFullLength)
{
    char buf[4];
    EXPECT_EQ(format(buf, sizeof buf, "%s", "abcdef"), 6u);
    EXPECT_STREQ(buf, "abc");
}

TEST(Errno, MatchesXenPublicHeader)
{
    EXPECT_EQ(static_cast<int>(Errno::XEN_ENOSYS), XEN_ENOSYS);
    EXPECT_EQ(static_cast<int>(Errno::XEN_EFAULT), XEN_EFAULT);
    EXPECT_EQ(static_cast<int>(Errno::XEN_EINVAL), XEN_EINVAL);
    EXPECT_STREQ(errno_name(Errno::XEN_EBUSY), "EBUSY");
}

TEST(Result, CarriesValueOrErrno)
{
    Result<int> good = 5;
    Result<int> bad = Err(Errno::XEN_EINVAL);
    ASSERT_TRUE(good.ok());
    EXPECT_EQ(*good, 5);
    EXPECT_FALSE(bad.ok());
    EXPECT_EQ(bad.as_xen_ret(), -22);
}
