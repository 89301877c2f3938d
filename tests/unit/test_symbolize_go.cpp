// GoSymbols and ElfSymbols against Go binaries built here, normal and
// stripped (-s -w), and with their section headers removed; ground truth
// from `go tool nm`. Skips when no Go toolchain is installed.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <random>

#include "symbolize/elf_symbols.h"
#include "symbolize/go_buildinfo.h"
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

// The toolchain's own word for its version (`go env GOVERSION`) must be
// what the binaries it built say, stripped and without section headers too.
TEST_F(GoSymbolsTest, BuildVersionMatchesTheToolchain) {
    std::string truth = run("go env GOVERSION").out;
    while (!truth.empty() && (truth.back() == '\n' || truth.back() == ' ')) truth.pop_back();
    ASSERT_EQ(truth.rfind("go1.", 0), 0u) << truth;
    for (const char* binary : {"plain", "stripped"}) {
        const auto file = ElfFile::open(at(binary), nullptr);
        ASSERT_TRUE(file) << binary;
        EXPECT_EQ(go_build_version(*file), truth) << binary;
    }
    std::string image = symtest::read_file(at("stripped"));
    std::memset(image.data() + 0x28, 0, 8);  // e_shoff
    std::memset(image.data() + 0x3c, 0, 4);  // e_shnum, e_shstrndx
    symtest::write_file(at("noshdr-version"), image);
    const auto file = ElfFile::open(at("noshdr-version"), nullptr);
    ASSERT_TRUE(file);
    EXPECT_EQ(go_build_version(*file), truth);
}

// Go 1.13-1.17 leave a pointer to runtime.buildVersion's string header after
// the 32-byte header, instead of the string itself.
std::vector<uint8_t> buildinfo_header(uint8_t ptr_size, uint8_t flags) {
    std::vector<uint8_t> b(32, 0);
    std::memcpy(b.data(), "\xff Go buildinf:", 14);
    b[14] = ptr_size;
    b[15] = flags;
    return b;
}

void put(std::vector<uint8_t>& b, size_t at, uint64_t v, size_t size, bool big) {
    if (b.size() < at + size) b.resize(at + size);
    for (size_t i = 0; i < size; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * (big ? size - 1 - i : i)));
}

TEST(GoBuildInfo, PointerLayoutOfGoBefore118) {
    for (bool big : {false, true}) {
        for (uint8_t ptr : {uint8_t{8}, uint8_t{4}}) {
            std::vector<uint8_t> block = buildinfo_header(ptr, big ? 1 : 0);
            put(block, 16, 0x5000, ptr, big);  // &runtime.buildVersion
            put(block, 16 + ptr, 0x6000, ptr, big);
            std::vector<uint8_t> header;
            put(header, 0, 0x7000, ptr, big);  // data
            put(header, ptr, 9, ptr, big);     // len
            const std::string text = "go1.17.13";
            const VaddrReader memory = [&](uint64_t vaddr, uint64_t size) -> std::span<const uint8_t> {
                if (vaddr == 0x5000 && size == header.size()) return header;
                if (vaddr == 0x7000 && size == text.size())
                    return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
                return {};
            };
            EXPECT_EQ(go_build_version(block, memory), "go1.17.13") << "big " << big << " ptr " << int(ptr);
            // A header pointing nowhere, or a length past what is mapped.
            put(block, 16, 0x9000, ptr, big);
            EXPECT_EQ(go_build_version(block, memory), std::nullopt);
            put(block, 16, 0x5000, ptr, big);
            put(header, ptr, 10, ptr, big);
            EXPECT_EQ(go_build_version(block, memory), std::nullopt);
        }
    }
}

TEST(GoBuildInfo, InlineLayoutAndGarbage) {
    const VaddrReader nothing = [](uint64_t, uint64_t) { return std::span<const uint8_t>{}; };
    std::vector<uint8_t> block = buildinfo_header(8, 2);
    block.push_back(8);
    for (char c : std::string("go1.21.4")) block.push_back(static_cast<uint8_t>(c));
    EXPECT_EQ(go_build_version(block, nothing), "go1.21.4");
    block[32] = 200;  // longer than the block
    EXPECT_EQ(go_build_version(block, nothing), std::nullopt);
    block[32] = 0x80;  // a varint that never ends
    block.resize(33);
    EXPECT_EQ(go_build_version(block, nothing), std::nullopt);
    block = buildinfo_header(8, 2);
    block.push_back(3);
    for (uint8_t c : {uint8_t{'g'}, uint8_t{0}, uint8_t{'1'}}) block.push_back(c);  // not text
    EXPECT_EQ(go_build_version(block, nothing), std::nullopt);
    EXPECT_EQ(go_build_version(std::vector<uint8_t>(31, 0xff), nothing), std::nullopt);
    std::vector<uint8_t> wrong = buildinfo_header(8, 2);
    wrong[1] = 'g';  // magic mismatch
    EXPECT_EQ(go_build_version(wrong, nothing), std::nullopt);
}

// Go 1.16 and 1.17 write the older table (magic 0xfffffffa): no textStart
// word, absolute pointer-sized entry PCs in the function table, and a
// pointer-sized entry at the start of each _func. No such toolchain here,
// so the table is built by hand to that layout.
TEST(GoSymbols116, HandBuiltTableOfTheOlderFormat) {
    std::vector<uint8_t> t(8, 0);
    put(t, 0, 0xfffffffa, 4, false);
    t[4] = t[5] = 0;
    t[6] = 1;  // pc quantum
    t[7] = 8;  // pointer size
    const std::vector<std::string> names{"main.main", "crypto/tls.(*Conn).Write", "net.(*conn).Read"};
    const std::vector<uint64_t> entries{0x401000, 0x401100, 0x401180, 0x401200};  // the last: end
    const size_t header = 8 + 7 * 8, funcnametab = header;
    std::vector<uint32_t> name_offsets;
    std::string nametab;
    for (const auto& n : names) {
        name_offsets.push_back(static_cast<uint32_t>(nametab.size()));
        nametab += n;
        nametab += '\0';
    }
    const size_t functab = (funcnametab + nametab.size() + 7) / 8 * 8;
    const size_t funcs = functab + (2 * names.size() + 1) * 8;  // the _func records after the table
    put(t, 8, names.size(), 8, false);       // nfunc
    put(t, 16, 0, 8, false);                 // nfiles
    put(t, 24, funcnametab, 8, false);       // funcnameOffset
    put(t, 32, 0, 8, false);                 // cuOffset
    put(t, 40, 0, 8, false);                 // filetabOffset
    put(t, 48, 0, 8, false);                 // pctabOffset
    put(t, 56, functab, 8, false);           // pclnOffset: the function table
    t.resize(functab, 0);
    std::memcpy(t.data() + funcnametab, nametab.data(), nametab.size());
    for (size_t i = 0; i < names.size(); ++i) {
        const size_t func = funcs + i * 16 - functab;  // offsets are from the function table
        put(t, functab + 16 * i, entries[i], 8, false);
        put(t, functab + 16 * i + 8, func, 8, false);
        put(t, functab + func, entries[i], 8, false);             // _func.entry
        put(t, functab + func + 8, name_offsets[i], 4, false);    // _func.nameOff
    }
    put(t, functab + 16 * names.size(), entries.back(), 8, false);
    t.resize(funcs + names.size() * 16 + 16, 0);

    std::string error;
    auto g = GoSymbols::parse(t, 0, &error);
    ASSERT_TRUE(g) << error;
    EXPECT_EQ(g->format(), 116);
    EXPECT_EQ(g->function_count(), names.size());
    EXPECT_EQ(g->resolve(0x401000), "main.main");
    EXPECT_EQ(g->resolve(0x4010ff), "main.main");
    EXPECT_EQ(g->resolve(0x401150), "crypto/tls.(*Conn).Write");
    EXPECT_EQ(g->resolve(0x4011ff), "net.(*conn).Read");
    EXPECT_EQ(g->resolve(0x401200), std::nullopt);
    EXPECT_EQ(g->resolve(0x400fff), std::nullopt);
    const auto range = g->function_range("crypto/tls.(*Conn).Write");
    ASSERT_TRUE(range);
    EXPECT_EQ(range->entry, 0x401100u);
    EXPECT_EQ(range->end, 0x401180u);
}

TEST(GoBuildInfo, ReleaseOfVersionStrings) {
    auto r = go_release("go1.17.13");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->major, 1);
    EXPECT_EQ(r->minor, 17);
    EXPECT_EQ(go_release("go1.9")->minor, 9);
    EXPECT_EQ(go_release("go1.21rc2")->minor, 21);
    EXPECT_FALSE(go_release("devel go1.22-abc"));
    EXPECT_FALSE(go_release("go"));
    EXPECT_FALSE(go_release("go1"));
    EXPECT_FALSE(go_release("gox.y"));
    EXPECT_TRUE((*go_release("go1.16.15") < GoRelease{1, 17}));
    EXPECT_FALSE((*go_release("go1.17") < GoRelease{1, 17}));
}

}  // namespace
}  // namespace whoclosed
