#include "vuart/vpl011.hpp"

#include <gtest/gtest.h>
#include <string>
#include <vector>

using namespace keel::vuart;

namespace {
struct Lines final : LineSink {
    std::vector<std::string> got;
    void line(const char* t, std::size_t n) override { got.emplace_back(t, n); }
};
struct Vpl011Test : ::testing::Test {
    Lines sink;
    Vpl011 u;
    void SetUp() override { u.init(&sink); }
    void puts(const char* s)
    {
        for (; *s; ++s) ASSERT_EQ(u.write(Vpl011::DR, 4, static_cast<unsigned char>(*s)), Access::Ok);
    }
    std::uint32_t rd(std::uint64_t off)
    {
        std::uint64_t v = ~0ull;
        EXPECT_EQ(u.read(off, 4, v), Access::Ok);
        return static_cast<std::uint32_t>(v);
    }
};
} // namespace

TEST_F(Vpl011Test, OutputIsEmittedWholeLinesWithoutCarriageReturns)
{
    puts("hello\r\nwor");
    ASSERT_EQ(sink.got.size(), 1u);
    EXPECT_EQ(sink.got[0], "hello");
    puts("ld\n");
    EXPECT_EQ(sink.got.back(), "world");
    puts("partial");
    u.flush();
    EXPECT_EQ(sink.got.back(), "partial");
}

TEST_F(Vpl011Test, OverlongLinesAreSplitNotOverflowed)
{
    std::string big(Vpl011::kLineMax + 10, 'x');
    puts(big.c_str());
    puts("\n");
    ASSERT_EQ(sink.got.size(), 2u);
    EXPECT_EQ(sink.got[0].size(), Vpl011::kLineMax);
    EXPECT_EQ(sink.got[1].size(), 10u);
}

TEST_F(Vpl011Test, FlagsAndTransmitInterruptAsLinuxExpects)
{
    EXPECT_EQ(rd(Vpl011::FR), Vpl011::FR_TXFE | Vpl011::FR_RXFE);
    EXPECT_FALSE(u.irq_level());
    ASSERT_EQ(u.write(Vpl011::IMSC, 4, Vpl011::INT_TX), Access::Ok);
    EXPECT_TRUE(u.irq_level()) << "TX ready raises the line once the guest unmasks it";
    EXPECT_EQ(rd(Vpl011::MIS), Vpl011::INT_TX);
    ASSERT_EQ(u.write(Vpl011::IMSC, 4, 0), Access::Ok);
    EXPECT_FALSE(u.irq_level());
}

TEST_F(Vpl011Test, ReceiveFifo)
{
    ASSERT_EQ(u.write(Vpl011::IMSC, 4, Vpl011::INT_RX | Vpl011::INT_RT), Access::Ok);
    EXPECT_FALSE(u.irq_level());
    for (unsigned i = 0; i < Vpl011::kRxFifo; ++i) EXPECT_TRUE(u.push_rx(char('a' + i % 26)));
    EXPECT_FALSE(u.push_rx('!')) << "full FIFO refuses";
    EXPECT_TRUE(u.irq_level());
    EXPECT_TRUE(rd(Vpl011::FR) & Vpl011::FR_RXFF);
    EXPECT_EQ(rd(Vpl011::DR), 'a');
    for (unsigned i = 1; i < Vpl011::kRxFifo; ++i) rd(Vpl011::DR);
    EXPECT_TRUE(rd(Vpl011::FR) & Vpl011::FR_RXFE);
    EXPECT_FALSE(u.irq_level());
    EXPECT_EQ(rd(Vpl011::DR), 0u) << "empty FIFO reads zero";
}

TEST_F(Vpl011Test, HostileAccessesAreRefusedOrIgnored)
{
    std::uint64_t v;
    EXPECT_EQ(u.read(Vpl011::kSize, 4, v), Access::Bad);
    EXPECT_EQ(u.read(0x2, 4, v), Access::Bad) << "misaligned";
    EXPECT_EQ(u.read(0x0, 8, v), Access::Bad) << "64-bit access";
    EXPECT_EQ(u.write(~0ull, 1, 0), Access::Bad);
    for (std::uint64_t off = 0; off < Vpl011::kSize; off += 4) {
        EXPECT_EQ(u.read(off, 4, v), Access::Ok);
        if (off != Vpl011::DR) EXPECT_EQ(u.write(off, 4, ~0ull), Access::Ok);
    }
    EXPECT_EQ(rd(Vpl011::IMSC), Vpl011::INT_RX | Vpl011::INT_TX | Vpl011::INT_RT) << "reserved IMSC bits stay clear";
    EXPECT_EQ(u.read(Vpl011::FR + 1, 1, v), Access::Ok);
    EXPECT_EQ(v, 0u) << "byte 1 of FR";
}
