// ElfSymbols against C and C++ binaries built here with gcc, PIE and not,
// stripped and not, with a separate debug file; ground truth from nm/readelf.
#include <gtest/gtest.h>

#include "symbolize/elf_symbols.h"
#include "symbolize_fixture.h"

namespace whoclosed {
namespace {

using symtest::run;

constexpr const char* kProgram = R"(
__attribute__((noinline)) int whoclosed_target(int x) { return x * 3 + 1; }
static __attribute__((noinline)) int hidden_helper(int x) { return x * x - 1; }
int main(int argc, char** argv) { (void)argv; return whoclosed_target(argc) + hidden_helper(argc); }
)";

class ElfSymbolsTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = new symtest::ScratchDir();
        symtest::write_file(at("prog.c"), kProgram);
        const std::string cc = "gcc -O1 -o ";
        build(cc + at("pie") + " -fPIE -pie " + at("prog.c"));
        build(cc + at("nopie") + " -fno-PIE -no-pie " + at("prog.c"));
        build(cc + at("dynamic") + " -fPIE -pie -rdynamic " + at("prog.c"));
        build("cp " + at("pie") + " " + at("pie.stripped") + " && strip --strip-all " +
              at("pie.stripped"));
        build("cp " + at("dynamic") + " " + at("dynamic.stripped") + " && strip --strip-all " +
              at("dynamic.stripped"));
        build("objcopy --only-keep-debug " + at("pie") + " " + at("pie.debug") + " && objcopy " +
              "--strip-all --add-gnu-debuglink=" + at("pie.debug") + " " + at("pie") + " " +
              at("linked"));
    }
    static void TearDownTestSuite() {
        delete dir_;
        dir_ = nullptr;
    }
    static std::string at(const std::string& name) { return *dir_ / name; }
    static void build(const std::string& command) {
        const auto r = run(command);
        ASSERT_EQ(r.code, 0) << command << "\n" << r.out;
    }
    static uint64_t address_of(const std::string& binary, const std::string& symbol) {
        const auto addr = symtest::nm_address("nm " + at(binary), symbol);
        EXPECT_TRUE(addr.has_value()) << symbol << " not in nm " << binary;
        return addr.value_or(0);
    }
    static ElfSymbols open(const std::string& binary) {
        std::string error;
        auto s = ElfSymbols::open(at(binary), &error, ElfLookup{"", ""});
        EXPECT_TRUE(s.has_value()) << error;
        return std::move(s).value();
    }

    static symtest::ScratchDir* dir_;
};
symtest::ScratchDir* ElfSymbolsTest::dir_ = nullptr;

TEST_F(ElfSymbolsTest, PieResolvesByAddressAndFileOffset) {
    const ElfSymbols s = open("pie");
    EXPECT_TRUE(s.is_pie());
    const uint64_t addr = address_of("pie", "whoclosed_target");
    EXPECT_EQ(s.resolve_vaddr(addr), "whoclosed_target");
    EXPECT_EQ(s.resolve_vaddr(addr + 2), "whoclosed_target");
    const auto offset = symtest::file_offset_of(at("pie"), addr + 2);
    ASSERT_TRUE(offset);
    EXPECT_EQ(s.resolve_file_offset(*offset), "whoclosed_target");
    EXPECT_EQ(s.resolve_vaddr(address_of("pie", "hidden_helper")), "hidden_helper");
    EXPECT_EQ(s.build_id(), symtest::readelf_build_id(at("pie")));
}

TEST_F(ElfSymbolsTest, NonPieResolvesByAddressAndFileOffset) {
    const ElfSymbols s = open("nopie");
    EXPECT_FALSE(s.is_pie());
    const uint64_t addr = address_of("nopie", "whoclosed_target");
    EXPECT_GE(addr, 0x400000u);  // linked at a fixed address, not at 0
    EXPECT_EQ(s.resolve_vaddr(addr + 1), "whoclosed_target");
    const auto offset = symtest::file_offset_of(at("nopie"), addr + 1);
    ASSERT_TRUE(offset);
    EXPECT_NE(*offset, addr + 1);
    EXPECT_EQ(s.resolve_file_offset(*offset), "whoclosed_target");
}

TEST_F(ElfSymbolsTest, StrippedKeepsOnlyDynamicSymbols) {
    // strip does not move code: the unstripped twin's addresses still hold.
    const uint64_t addr = address_of("dynamic", "whoclosed_target");
    EXPECT_EQ(open("dynamic.stripped").resolve_vaddr(addr), "whoclosed_target");
    // Not exported and no .symtab: nothing to name it, the caller prints module+offset.
    const ElfSymbols bare = open("pie.stripped");
    EXPECT_EQ(bare.resolve_vaddr(address_of("pie", "whoclosed_target")), std::nullopt);
    EXPECT_EQ(bare.resolve_vaddr(address_of("pie", "hidden_helper")), std::nullopt);
}

TEST_F(ElfSymbolsTest, DebuglinkNextToTheBinaryRestoresStaticFunctions) {
    const ElfSymbols s = open("linked");
    EXPECT_EQ(s.debug_file(), at("pie.debug"));
    EXPECT_EQ(s.resolve_vaddr(address_of("pie", "hidden_helper")), "hidden_helper");
    EXPECT_EQ(s.resolve_vaddr(address_of("pie", "whoclosed_target")), "whoclosed_target");
}

TEST_F(ElfSymbolsTest, DebugFileFoundByBuildIdUnderTheDebugRoot) {
    const std::string hex = hex_string(symtest::readelf_build_id(at("pie")));
    ASSERT_FALSE(hex.empty());
    const std::string root = at("debugroot");
    build("mkdir -p " + root + "/.build-id/" + hex.substr(0, 2) + " && cp " + at("pie.debug") +
          " " + root + "/.build-id/" + hex.substr(0, 2) + "/" + hex.substr(2) + ".debug");
    auto s = ElfSymbols::open(at("pie.stripped"), nullptr, ElfLookup{root, ""});
    ASSERT_TRUE(s);
    EXPECT_EQ(s->resolve_vaddr(address_of("pie", "hidden_helper")), "hidden_helper");
}

TEST_F(ElfSymbolsTest, CxxNamesAreDemangled) {
    symtest::write_file(at("w.cpp"),
                        "namespace ns { struct Widget { int close(int); };\n"
                        "__attribute__((noinline)) int Widget::close(int x) { return x + 7; } }\n"
                        "int main(int c, char**) { ns::Widget w; return w.close(c); }\n");
    build("g++ -O1 -o " + at("cxx") + " " + at("w.cpp"));
    const uint64_t addr = address_of("cxx", "_ZN2ns6Widget5closeEi");
    EXPECT_EQ(open("cxx").resolve_vaddr(addr), "ns::Widget::close(int)");
}

TEST_F(ElfSymbolsTest, GarbageAndTruncatedFilesGiveErrorsNotCrashes) {
    symtest::write_file(at("empty"), "");
    symtest::write_file(at("text"), "this is not an ELF file at all\n");
    std::string error;
    EXPECT_FALSE(ElfSymbols::open(at("empty"), &error));
    EXPECT_FALSE(ElfSymbols::open(at("text"), &error));
    EXPECT_FALSE(error.empty());
    EXPECT_FALSE(ElfSymbols::open(at("does-not-exist"), &error));
    const std::string image = symtest::read_file(at("pie"));
    const uint64_t addr = address_of("pie", "whoclosed_target");
    for (size_t size : {size_t{4}, size_t{64}, size_t{200}, image.size() / 3, image.size() - 100}) {
        symtest::write_file(at("truncated"), image.substr(0, size));
        if (auto s = ElfSymbols::open(at("truncated"), nullptr, ElfLookup{"", ""})) {
            (void)s->resolve_vaddr(addr);  // whatever it says, it must not crash
        }
    }
    std::string scrambled = image;
    for (size_t i = 64; i < scrambled.size(); i += 7)
        scrambled[i] = static_cast<char>(scrambled[i] * 31 + 5);
    symtest::write_file(at("scrambled"), scrambled);
    if (auto s = ElfSymbols::open(at("scrambled"), nullptr, ElfLookup{"", ""})) {
        (void)s->resolve_vaddr(addr);
    }
}

}  // namespace
}  // namespace whoclosed
