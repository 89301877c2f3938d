// KernelSymbolizer on this host's /proc/kallsyms, and on fixed texts for the
// cases a host cannot show on demand (hidden addresses, garbage lines).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "symbolize/kernel_symbolizer.h"

namespace whoclosed {
namespace {

bool require_bpf() {
    const char* v = std::getenv("WHOCLOSED_REQUIRE_BPF");
    return v != nullptr && std::string(v) == "1";
}

// Ground truth: the line for tcp_close, read here without the symbolizer.
uint64_t kallsyms_address(const std::string& wanted) {
    std::ifstream in("/proc/kallsyms");
    std::string addr, type, name;
    while (in >> addr >> type >> name) {
        if (name == wanted) return std::stoull(addr, nullptr, 16);
        in.ignore(4096, '\n');
    }
    return 0;
}

TEST(KernelSymbolizer, ResolvesTcpCloseFromKallsyms) {
    const uint64_t addr = kallsyms_address("tcp_close");
    if (addr == 0) {
        if (require_bpf()) FAIL() << "tcp_close has no address in /proc/kallsyms (kptr_restrict?)";
        GTEST_SKIP() << "kallsyms addresses hidden (kptr_restrict or not root)";
    }
    const KernelSymbolizer k = KernelSymbolizer::from_file();
    ASSERT_TRUE(k.available()) << k.error();
    EXPECT_EQ(k.resolve(addr), "tcp_close");
    EXPECT_EQ(k.resolve(addr + 0x10), "tcp_close");  // a return address inside it
}

TEST(KernelSymbolizer, HiddenAddressesMakeItUnavailable) {
    const auto k = KernelSymbolizer::from_text(
        "0000000000000000 T tcp_close\n"
        "0000000000000000 t tcp_fin\n");
    EXPECT_FALSE(k.available());
    EXPECT_NE(k.error().find("kptr_restrict"), std::string::npos);
    EXPECT_EQ(k.resolve(0x1234), std::nullopt);
}

TEST(KernelSymbolizer, PicksTheEnclosingTextSymbol) {
    const auto k = KernelSymbolizer::from_text(
        "ffffffff81000000 T _stext\n"
        "ffffffff81001000 T tcp_close\n"
        "ffffffff81001000 T tcp_close_alias\n"
        "ffffffff81001800 D some_data\n"
        "ffffffff81002000 t tcp_fin\t[tcp_mod]\n"
        "garbage line without fields\n"
        "zzzz T not_hex\n");
    ASSERT_TRUE(k.available()) << k.error();
    EXPECT_EQ(k.size(), 3u);
    EXPECT_EQ(k.resolve(0xffffffff81001000), "tcp_close");
    EXPECT_EQ(k.resolve(0xffffffff81001900), "tcp_close");  // data symbols do not end functions
    EXPECT_EQ(k.resolve(0xffffffff81002010), "tcp_fin");
    EXPECT_EQ(k.resolve(0xffffffff80000000), std::nullopt);
    EXPECT_EQ(k.resolve(0xffffffff91000000), std::nullopt);
}

TEST(KernelSymbolizer, MissingFileIsAnError) {
    const auto k = KernelSymbolizer::from_file("/nonexistent/kallsyms");
    EXPECT_FALSE(k.available());
    EXPECT_EQ(k.resolve(0xffffffff81000000), std::nullopt);
}

}  // namespace
}  // namespace whoclosed
