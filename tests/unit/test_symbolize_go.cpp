// GoSymbols and ElfSymbols against Go binaries built here, normal and
// stripped (-s -w), and with their section headers removed; ground truth
// from `go tool nm`. Skips when no Go toolchain is installed.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <random>

#include "symbolize/elf_symbols.h"
#include "symbolize/go_symbols.h"
#include "symbolize_fixture.h"

namespace whoclosed {
namespace {

using symtest::run;

constexpr const char* kProgram = R"(package main

import "os"

type conn struct{ f *os.File }

//go:noinline
func (c *conn) serve() { closeIt(c.f) }

//go:noinline
func closeIt(f *os.File) { f.Close() }

func main() {
	f, _ := os.Open("/dev/null")
	(&conn{f}).serve()
}
)";

class GoSymbolsTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        if (run("command -v go").code != 0) return;
        dir_ = new symtest::ScratchDir();
        symtest::write_file(*dir_ / "main.go", kProgram);
        const std::string env = "cd " + dir_->path() + " && GOCACHE=" + (*dir_ / "cache") +
                                " GOPATH=" + (*dir_ / "gopath") +
                                " GOPROXY=off GOFLAGS=-mod=mod GO111MODULE=off GOTOOLCHAIN=local ";
        built_ = run(env + "go build -o plain main.go").code == 0 &&
                 run(env + "go build -ldflags='-s -w' -o stripped main.go").code == 0;
        const std::string nm = "go tool nm " + (*dir_ / "plain");
        for (const char* name : {"main.main", "main.closeIt", "main.(*conn).serve"}) {
            if (auto addr = symtest::nm_address(nm, name)) truth_[name] = *addr;
        }
    }
    static void TearDownTestSuite() {
        delete dir_;
        dir_ = nullptr;
    }
    void SetUp() override {
        if (dir_ == nullptr) GTEST_SKIP() << "no Go toolchain (go) in PATH";
        ASSERT_TRUE(built_) << "go build failed";
        ASSERT_EQ(truth_.size(), 3u) << "go tool nm did not list the test functions";
    }
    static std::string at(const std::string& name) { return *dir_ / name; }
    static std::vector<uint8_t> pclntab_of(const std::string& binary) {
        const std::string out = at(binary + ".pclntab");
        run("objcopy -O binary --only-section=.gopclntab " + at(binary) + " " + out);
        const std::string bytes = symtest::read_file(out);
        return {bytes.begin(), bytes.end()};
    }
    void expect_go_names(const ElfSymbols& s) {
        EXPECT_TRUE(s.is_go());
        for (const auto& [name, addr] : truth_) {
            EXPECT_EQ(s.resolve_vaddr(addr), name);
            EXPECT_EQ(s.resolve_vaddr(addr + 3), name) << "inside " << name;
        }
    }

    static symtest::ScratchDir* dir_;
    static bool built_;
    static std::map<std::string, uint64_t> truth_;
};
symtest::ScratchDir* GoSymbolsTest::dir_ = nullptr;
bool GoSymbolsTest::built_ = false;
std::map<std::string, uint64_t> GoSymbolsTest::truth_;

TEST_F(GoSymbolsTest, UnstrippedBinaryGivesGoNames) {
    auto s = ElfSymbols::open(at("plain"));
    ASSERT_TRUE(s);
    expect_go_names(*s);
    const auto offset = symtest::file_offset_of(at("plain"), truth_["main.closeIt"]);
    ASSERT_TRUE(offset);
    EXPECT_EQ(s->resolve_file_offset(*offset), "main.closeIt");
}

// -s -w drops .symtab and DWARF, not .gopclntab; the code does not move.
TEST_F(GoSymbolsTest, StrippedBinaryStillGivesGoNames) {
    EXPECT_EQ(symtest::nm_address("go tool nm " + at("stripped"), "main.main"), std::nullopt);
    auto s = ElfSymbols::open(at("stripped"));
    ASSERT_TRUE(s);
    EXPECT_EQ(s->symbol_count(), 0u);
    expect_go_names(*s);
}

TEST_F(GoSymbolsTest, BinaryWithoutSectionHeadersIsFoundByMagic) {
    std::string image = symtest::read_file(at("stripped"));
    ASSERT_GT(image.size(), 64u);
    std::memset(image.data() + 0x28, 0, 8);  // e_shoff
    std::memset(image.data() + 0x3c, 0, 4);  // e_shnum, e_shstrndx
    symtest::write_file(at("noshdr"), image);
    auto s = ElfSymbols::open(at("noshdr"));
    ASSERT_TRUE(s);
    expect_go_names(*s);
}

TEST_F(GoSymbolsTest, ParsesTheRawTableAndRejectsOutsidePcs) {
    std::string error;
    auto g = GoSymbols::parse(pclntab_of("plain"), 0, &error);
    ASSERT_TRUE(g) << error;
    EXPECT_EQ(g->format(), 118);  // Go 1.19 here; 1.20+ would write 120
    EXPECT_GT(g->function_count(), 100u);
    EXPECT_EQ(g->resolve(truth_["main.(*conn).serve"]), "main.(*conn).serve");
    EXPECT_EQ(g->resolve(0), std::nullopt);
    EXPECT_EQ(g->resolve(~uint64_t{0}), std::nullopt);
}

// Uprobe placement finds functions by name, in stripped binaries too.
TEST_F(GoSymbolsTest, FunctionRangeByNameInStrippedBinary) {
    auto s = ElfSymbols::open(at("stripped"));
    ASSERT_TRUE(s && s->go_symbols());
    const GoSymbols& g = *s->go_symbols();
    for (const auto& [name, addr] : truth_) {
        const auto range = g.function_range(name);
        ASSERT_TRUE(range) << name;
        EXPECT_EQ(range->entry, addr) << name;
        ASSERT_GT(range->end, range->entry) << name;
        EXPECT_EQ(g.resolve(range->end - 1), name);
        EXPECT_NE(g.resolve(range->end), name);
    }
    EXPECT_EQ(g.function_range("main.noSuchFunction"), std::nullopt);
    EXPECT_EQ(g.function_range("main"), std::nullopt);  // a prefix is not a name
}

TEST_F(GoSymbolsTest, TruncatedOrCorruptTablesGiveErrorsNotCrashes) {
    const std::vector<uint8_t> table = pclntab_of("plain");
    ASSERT_GT(table.size(), 1000u);
    std::string error;
    for (size_t size :
         {size_t{0}, size_t{8}, size_t{16}, size_t{72}, size_t{200}, table.size() / 2}) {
        error.clear();
        auto g = GoSymbols::parse({table.begin(), table.begin() + size}, 0, &error);
        EXPECT_FALSE(g) << "size " << size;
        EXPECT_FALSE(error.empty());
    }
    EXPECT_FALSE(GoSymbols::parse(std::vector<uint8_t>(4096, 0xff), 0, &error));
    std::mt19937 rng(42);
    for (int round = 0; round < 200; ++round) {
        std::vector<uint8_t> bad = table;
        for (int i = 0; i < 16; ++i)
            bad[8 + rng() % (bad.size() - 8)] = static_cast<uint8_t>(rng());
        if (round % 2) std::memset(bad.data() + 8 + (rng() % 8) * 8, 0xff, 8);  // a header word
        if (auto g = GoSymbols::parse(std::move(bad), 0, nullptr)) {
            for (const auto& [name, addr] : truth_) (void)g->resolve(addr);
        }
    }
}

}  // namespace
}  // namespace whoclosed
