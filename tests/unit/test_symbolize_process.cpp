// ProcessSymbolizer on live child processes built and started here: frames
// in libc and in the main binary, after the process exited, by build-id, and
// the module+offset fallback. Ground truth: the child's own dlsym, nm, readelf.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <sstream>

#include "symbolize/process_symbolizer.h"
#include "symbolize_fixture.h"

namespace whoclosed {
namespace {

constexpr const char* kHelper = R"(#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <unistd.h>
__attribute__((noinline)) int whoclosed_target(int x) { return x * 3 + 1; }
int main(void) {
    printf("%p %p\n", dlsym(RTLD_DEFAULT, "nanosleep"), (void*)&whoclosed_target);
    fflush(stdout);
    pause();
    return whoclosed_target(0);
}
)";

// A started helper that prints its addresses; killed and reaped on destruction.
class Helper {
public:
    explicit Helper(const std::string& binary) : run_(binary) {
        unsigned long long a = 0, b = 0;
        if (run_.out() != nullptr && std::fscanf(run_.out(), "%llx %llx", &a, &b) == 2) {
            nanosleep_ = a;
            target_ = b;
        }
    }
    void stop() { run_.stop(); }
    pid_t pid() const { return run_.pid(); }
    uint64_t nanosleep_addr() const { return nanosleep_; }
    uint64_t target_addr() const { return target_; }

private:
    symtest::RunningHelper run_;
    uint64_t nanosleep_ = 0, target_ = 0;
};

class ProcessSymbolizerTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = new symtest::ScratchDir();
        symtest::write_file(at("helper.c"), kHelper);
        built_ =
            symtest::run("gcc -O1 -fPIE -pie -o " + at("helper") + " " + at("helper.c")).code ==
                0 &&
            symtest::run("strip --strip-all -o " + at("helper.stripped") + " " + at("helper"))
                    .code == 0;
    }
    static void TearDownTestSuite() {
        delete dir_;
        dir_ = nullptr;
    }
    void SetUp() override { ASSERT_TRUE(built_) << "could not build the helper with gcc"; }
    static std::string at(const std::string& name) { return *dir_ / name; }
    static ProcessSymbolizer::Options no_scan() {
        ProcessSymbolizer::Options o;
        o.scan_dirs.clear();
        return o;
    }
    static std::string hex(uint64_t v) {
        std::ostringstream s;
        s << "0x" << std::hex << v;
        return s.str();
    }

    static symtest::ScratchDir* dir_;
    static bool built_;
};
symtest::ScratchDir* ProcessSymbolizerTest::dir_ = nullptr;
bool ProcessSymbolizerTest::built_ = false;

TEST_F(ProcessSymbolizerTest, LiveProcessResolvesLibcAndMainBinary) {
    Helper child(at("helper"));
    ASSERT_NE(child.target_addr(), 0u);
    ProcessSymbolizer sym(no_scan());
    ASSERT_TRUE(sym.remember(child.pid()));
    EXPECT_NE(sym.resolve(child.pid(), child.nanosleep_addr() + 1).find("nanosleep"),
              std::string::npos);
    EXPECT_EQ(sym.resolve(child.pid(), child.target_addr() + 1), "whoclosed_target");
    EXPECT_EQ(sym.resolve(child.pid(), 0x10), "[unknown]+0x10");
}

TEST_F(ProcessSymbolizerTest, RememberedProcessResolvesAfterItExits) {
    Helper child(at("helper"));
    ASSERT_NE(child.target_addr(), 0u);
    const pid_t pid = child.pid();
    ProcessSymbolizer sym(no_scan());
    ASSERT_TRUE(sym.remember(pid));
    child.stop();
    EXPECT_FALSE(sym.remember(pid));  // gone: the snapshot stays
    EXPECT_EQ(sym.resolve(pid, child.target_addr()), "whoclosed_target");
    EXPECT_NE(sym.resolve(pid, child.nanosleep_addr()).find("nanosleep"), std::string::npos);
}

// What struct process_note carries when the reader came too late: file
// names without directories and (dev, inode). Files are found by name in
// the scan directories and used only when their identity matches.
TEST_F(ProcessSymbolizerTest, KernelListedModulesResolveAfterTheProcessExited) {
    Helper child(at("helper"));
    ASSERT_NE(child.target_addr(), 0u);
    const pid_t pid = child.pid();
    const auto maps = read_proc_maps("/proc", pid);
    ASSERT_TRUE(maps && !maps->empty());
    child.stop();
    std::vector<Module> listed;
    std::vector<std::string> dirs = {dir_->path()};
    for (Module m : *maps) {
        if (!m.is_file()) continue;
        const std::string path = m.path;
        const size_t slash = path.rfind('/');
        dirs.push_back(path.substr(0, slash));
        m.path = path.substr(slash + 1);
        listed.push_back(m);
    }
    ProcessSymbolizer::Options options = no_scan();
    options.scan_dirs = dirs;
    ProcessSymbolizer sym(options);
    EXPECT_FALSE(sym.remember(pid));  // gone: /proc has nothing left
    sym.remember_modules(pid, listed);
    EXPECT_EQ(sym.resolve(pid, child.target_addr()), "whoclosed_target");
    EXPECT_NE(sym.resolve(pid, child.nanosleep_addr()).find("nanosleep"), std::string::npos);

    // A file of that name whose identity differs is not used.
    std::vector<Module> wrong = listed;
    for (Module& m : wrong) m.inode += 1;
    ProcessSymbolizer other(options);
    other.remember_modules(pid, wrong);
    EXPECT_EQ(other.resolve(pid, child.target_addr()).rfind("[helper]+0x", 0), 0u)
        << other.resolve(pid, child.target_addr());

    // A later note for the same pid is a new life of it: it replaces what was
    // remembered, and an empty one leaves nothing to misname frames with.
    other.remember_modules(pid, listed);
    EXPECT_EQ(other.resolve(pid, child.target_addr()), "whoclosed_target");
    other.remember_modules(pid, {});
    EXPECT_NE(other.resolve(pid, child.target_addr()), "whoclosed_target");
}

TEST_F(ProcessSymbolizerTest, UnresolvableFramePrintsModuleAndFileOffset) {
    Helper child(at("helper.stripped"));
    ASSERT_NE(child.target_addr(), 0u);
    ProcessSymbolizer sym(no_scan());
    const auto nm = symtest::nm_address("nm " + at("helper"), "whoclosed_target");
    ASSERT_TRUE(nm);
    const auto offset = symtest::file_offset_of(at("helper"), *nm);
    ASSERT_TRUE(offset);
    EXPECT_EQ(sym.resolve(child.pid(), child.target_addr()), "helper.stripped+" + hex(*offset));
}

TEST_F(ProcessSymbolizerTest, BuildIdFramesResolveThroughBinariesSeenBefore) {
    Helper child(at("helper"));
    ASSERT_NE(child.target_addr(), 0u);
    ProcessSymbolizer sym(no_scan());
    ASSERT_TRUE(sym.remember(child.pid()));
    const auto maps = read_proc_maps("/proc", child.pid());
    ASSERT_TRUE(maps);
    const Module* libc = find_module(*maps, child.nanosleep_addr());
    ASSERT_NE(libc, nullptr);
    child.stop();
    const uint64_t offset = child.nanosleep_addr() - libc->start + libc->offset;
    const std::string name = sym.resolve_build_id(symtest::readelf_build_id(libc->path), offset);
    EXPECT_NE(name.find("nanosleep"), std::string::npos) << name;
}

TEST_F(ProcessSymbolizerTest, BuildIdFramesResolveByScanningDirectories) {
    ProcessSymbolizer::Options options = no_scan();
    options.scan_dirs = {dir_->path()};
    ProcessSymbolizer sym(options);
    const auto nm = symtest::nm_address("nm " + at("helper"), "whoclosed_target");
    ASSERT_TRUE(nm);
    const auto offset = symtest::file_offset_of(at("helper"), *nm);
    ASSERT_TRUE(offset);
    const std::vector<uint8_t> id = symtest::readelf_build_id(at("helper"));
    ASSERT_FALSE(id.empty());
    EXPECT_EQ(sym.resolve_build_id(id, *offset), "whoclosed_target");
    const std::vector<uint8_t> unknown(20, 0xab);
    EXPECT_EQ(sym.resolve_build_id(unknown, 0x42), "[buildid:abababababababab]+0x42");
}

TEST(ProcMaps, ParsesExecutableMappingsOnly) {
    const auto modules = parse_proc_maps(
        "55d0a0000000-55d0a0001000 r--p 00000000 fd:01 1234 /usr/bin/prog\n"
        "55d0a0001000-55d0a0002000 r-xp 00001000 fd:01 1234 /usr/bin/prog\n"
        "7f0000000000-7f0000100000 r-xp 00028000 08:02 99 /opt/my app/lib.so (deleted)\n"
        "7ffc00000000-7ffc00002000 r-xp 00000000 00:00 0 [vdso]\n"
        "7e0000000000-7e0000001000 rwxp 00000000 00:00 0\n"
        "not a maps line\n");
    ASSERT_EQ(modules.size(), 4u);
    EXPECT_EQ(modules[0].path, "/usr/bin/prog");
    EXPECT_EQ(modules[0].offset, 0x1000u);
    EXPECT_EQ(modules[0].dev, makedev(0xfd, 1));
    EXPECT_EQ(modules[0].inode, 1234u);
    EXPECT_EQ(modules[1].display_name(), "[anon]");
    EXPECT_EQ(modules[2].path, "/opt/my app/lib.so");
    EXPECT_TRUE(modules[2].deleted);
    EXPECT_EQ(modules[2].display_name(), "lib.so");
    EXPECT_EQ(modules[3].display_name(), "[vdso]");
    EXPECT_EQ(find_module(modules, 0x7f0000000010), &modules[2]);
    EXPECT_EQ(find_module(modules, 0x7f0000100000), nullptr);
}

}  // namespace
}  // namespace whoclosed
