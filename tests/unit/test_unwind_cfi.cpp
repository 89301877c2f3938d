// Unwinding with .eh_frame rules: a helper built here without frame
// pointers captures, in its innermost function, what the kernel captures at
// a close (ip, sp, bp and the stack words above sp), prints them and waits.
// Ground truth: the helper's own call chain, leaf -> middle -> outer -> main.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

#include "symbolize/call_frame_info.h"
#include "symbolize/elf_file.h"
#include "symbolize/process_symbolizer.h"
#include "symbolize_fixture.h"

namespace whoclosed {
namespace {

constexpr int kWords = 29;  // what the kernel keeps after ip, sp, bp (WC_USTACK_DEPTH - 3)

constexpr const char* kHelper = R"(#include <stdio.h>
#include <string.h>
#include <unistd.h>
static unsigned long regs[3], words[29];
static volatile int sink;
__attribute__((noinline)) void wc_leaf(int depth) {
    unsigned long ip, sp, bp;
    __asm__ volatile("lea 0(%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2" : "=r"(ip), "=r"(sp), "=r"(bp));
    regs[0] = ip; regs[1] = sp; regs[2] = bp;
    memcpy(words, (void *)sp, sizeof(words));
    sink = depth;
}
__attribute__((noinline)) void wc_middle(int depth) { volatile char pad[40]; pad[0] = (char)depth; wc_leaf(depth + pad[0]); sink += pad[0]; }
__attribute__((noinline)) void wc_outer(int depth) { volatile char pad[24]; pad[0] = (char)depth; wc_middle(depth + 1); sink += pad[0]; }
int main(void) {
    wc_outer(1);
    printf("%lx %lx %lx", regs[0], regs[1], regs[2]);
    for (int i = 0; i < 29; i++) printf(" %lx", words[i]);
    printf("\n");
    fflush(stdout);
    pause();
    return sink;
}
)";

class CfiUnwindTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = new symtest::ScratchDir();
        symtest::write_file(at("helper.c"), kHelper);
        built_ = symtest::run("gcc -O2 -fomit-frame-pointer -fno-optimize-sibling-calls -fPIE -pie -o " +
                              at("helper") + " " + at("helper.c"))
                     .code == 0;
    }
    static void TearDownTestSuite() {
        delete dir_;
        dir_ = nullptr;
    }
    static std::string at(const std::string& name) { return *dir_ / name; }
    static symtest::ScratchDir* dir_;
    static bool built_;
};
symtest::ScratchDir* CfiUnwindTest::dir_ = nullptr;
bool CfiUnwindTest::built_ = false;

// The helper started, with the registers and stack words it printed
// (parsed is false if it printed none): what the tests below begin with.
struct Capture {
    explicit Capture(const std::string& path) : helper(path) {
        FILE* out = helper.out();
        if (out == nullptr) return;
        words.assign(kWords, 0);
        parsed = std::fscanf(out, "%lx %lx %lx", &regs.ip, &regs.sp, &regs.bp) == 3;
        for (auto& w : words) parsed = parsed && std::fscanf(out, "%lx", &w) == 1;
    }
    std::vector<uint64_t> unwind(ProcessSymbolizer& sym) { return sym.unwind(helper.pid(), regs, words, 32); }
    symtest::RunningHelper helper;
    UserRegs regs;
    std::vector<uint64_t> words;
    bool parsed = false;
};

ProcessSymbolizer::Options without_scan() {
    ProcessSymbolizer::Options options;
    options.scan_dirs.clear();
    return options;
}

TEST_F(CfiUnwindTest, FramePointerLessCallChainFromRegistersAndStackWords) {
    ASSERT_TRUE(built_) << "could not build the helper with gcc";
    Capture c(at("helper"));
    ProcessSymbolizer sym(without_scan());
    std::vector<std::string> names;
    if (c.parsed) {
        for (uint64_t ip : c.unwind(sym)) names.push_back(sym.resolve(c.helper.pid(), ip));
    }
    c.helper.stop();

    ASSERT_TRUE(c.parsed) << "the helper printed no registers";
    ASSERT_GE(names.size(), 4u) << ::testing::PrintToString(names);
    EXPECT_EQ(names[0], "wc_leaf");
    EXPECT_EQ(names[1], "wc_middle");
    EXPECT_EQ(names[2], "wc_outer");
    EXPECT_EQ(names[3], "main");
}

// Each address's unwind step is cached per process: the second walk of the
// same stack gives the same frames, and once the process is forgotten (a new
// life of its pid, or an exec, replaces what was known) and gone, nothing
// cached from its old mappings walks on.
TEST_F(CfiUnwindTest, CachedStepsAreForgottenWithTheProcess) {
    ASSERT_TRUE(built_) << "could not build the helper with gcc";
    Capture c(at("helper"));
    ProcessSymbolizer sym(without_scan());
    std::vector<uint64_t> first, second, after;
    if (c.parsed) {
        first = c.unwind(sym);
        second = c.unwind(sym);
    }
    const pid_t pid = c.helper.pid();
    c.helper.stop();
    sym.remember_modules(pid, {});
    if (c.parsed) after = sym.unwind(pid, c.regs, c.words, 32);

    ASSERT_TRUE(c.parsed) << "the helper printed no registers";
    ASSERT_GE(first.size(), 4u);
    EXPECT_EQ(second, first);
    ASSERT_EQ(after.size(), 1u) << "frames walked from a forgotten process's mappings";
    EXPECT_EQ(after[0], c.regs.ip);
}

// The compiled form of common rules against the general evaluator, at every
// 3rd address of libc's and the helper's code, on a synthetic stack whose
// words are all different: same success, same caller registers. And the
// compiled form must be what nearly all addresses get, or it saves nothing.
TEST_F(CfiUnwindTest, SimpleRulesStepLikeTheEvaluator) {
    ASSERT_TRUE(built_) << "could not build the helper with gcc";
    constexpr uint64_t kSp = 0x7000'0000, kBp = 0x7000'0400;
    const auto read = [](uint64_t addr, uint64_t& value) {
        if (addr < kSp - 0x800 || addr >= kSp + 0x2000 || addr % 8 != 0) return false;
        value = addr * 0x9e3779b97f4a7c15ull;
        return true;
    };
    const StackReader reader = read;
    for (const std::string& path : {std::string("/lib/x86_64-linux-gnu/libc.so.6"), at("helper")}) {
        SCOPED_TRACE(path);
        std::string error;
        auto file = ElfFile::open(path, &error);
        ASSERT_TRUE(file) << error;
        std::vector<LoadSegment> code;
        for (const LoadSegment& seg : file->segments())
            if (seg.executable) code.push_back(seg);
        auto cfi = CallFrameInfo::from(std::move(*file));
        ASSERT_NE(cfi, nullptr);
        size_t general = 0, simple = 0;
        for (const LoadSegment& seg : code) {
            for (uint64_t vaddr = seg.vaddr; vaddr < seg.vaddr + seg.file_size; vaddr += 3) {
                UserRegs a{vaddr, kSp, kBp}, b = a;
                const bool general_ok = cfi->step(vaddr, a, reader);
                general += general_ok;
                const auto rule = cfi->simple_rule(vaddr);
                if (!rule) continue;
                ++simple;
                const bool simple_ok = CallFrameInfo::apply(*rule, b, read);
                ASSERT_EQ(simple_ok, general_ok) << std::hex << vaddr;
                if (simple_ok) {
                    ASSERT_EQ(b.ip, a.ip) << std::hex << vaddr;
                    ASSERT_EQ(b.sp, a.sp) << std::hex << vaddr;
                    ASSERT_EQ(b.bp, a.bp) << std::hex << vaddr;
                }
            }
        }
        EXPECT_GT(general, 100u);
        EXPECT_GE(simple * 100, general * 95) << simple << " simple rules, " << general << " steps";
    }
}

// Without the stack words the rules need, unwinding stops at the first frame
// rather than guessing.
TEST_F(CfiUnwindTest, NoStackWordsNoCallers) {
    ASSERT_TRUE(built_) << "could not build the helper with gcc";
    ProcessSymbolizer sym;
    UserRegs regs{reinterpret_cast<uint64_t>(&CfiUnwindTest::SetUpTestSuite), 0x1000, 0};
    const auto frames = sym.unwind(::getpid(), regs, {}, 32);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0], regs.ip);
}

}  // namespace
}  // namespace whoclosed
