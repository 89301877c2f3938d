// main.cpp's contract as seen from a shell: exit codes, and which stream
// carries what. Runs the real binary, never the kernel part.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "../support/file_text.h"

namespace {

using ::whoclosed::testing::slurp;

struct Outcome {
    int code = -1;
    std::string out, err;
};

Outcome run(const std::string& args) {
    // Per process: ctest -j runs these tests side by side.
    const std::string base = ::testing::TempDir() + "whoclosed_main_" + std::to_string(getpid());
    const std::string out = base + "_out";
    const std::string err = base + "_err";
    const std::string cmd = std::string(WHOCLOSED_BINARY) + " " + args + " >" + out + " 2>" + err;
    const int status = std::system(cmd.c_str());
    Outcome r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
}

TEST(MainBinary, HelpOnStdoutExitZero) {
    const Outcome r = run("--help");
    EXPECT_EQ(r.code, 0);
    EXPECT_NE(r.out.find("trace"), std::string::npos);
    EXPECT_TRUE(r.err.empty());
}

TEST(MainBinary, UsageErrorOnStderrExitTwo) {
    const Outcome r = run("trace --port 70000");
    EXPECT_EQ(r.code, 2);
    EXPECT_TRUE(r.out.empty());
    EXPECT_EQ(r.err.rfind("whoclosed: error: --port", 0), 0u) << r.err;
}

TEST(MainBinary, NoCommandExitTwo) {
    const Outcome r = run("");
    EXPECT_EQ(r.code, 2);
    EXPECT_TRUE(r.out.empty());
    EXPECT_NE(r.err.find("trace, report, check or demo"), std::string::npos) << r.err;
}

TEST(MainBinary, Version) {
    const Outcome r = run("--version");
    EXPECT_EQ(r.code, 0);
    EXPECT_EQ(r.out.rfind("whoclosed ", 0), 0u);
}

}  // namespace
