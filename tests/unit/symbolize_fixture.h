// Helpers for the symbolizer tests: a scratch directory, shell commands, and
// ground truth read with binutils (nm, readelf) or `go tool nm`, never with
// the code under test.
#pragma once

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace whoclosed::symtest {

class ScratchDir {
public:
    ScratchDir() {
        std::string tmpl = ::testing::TempDir() + "whoclosed_sym_XXXXXX";
        if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
    }
    ~ScratchDir() {
        std::error_code ec;
        if (!path_.empty()) std::filesystem::remove_all(path_, ec);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    const std::string& path() const { return path_; }
    std::string operator/(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

// A helper binary started with its stdout on a pipe the test reads (what it
// prints is the ground truth: its own addresses or registers). Killed and
// reaped on destruction or stop(), so a failing test leaves nothing behind.
class RunningHelper {
public:
    explicit RunningHelper(const std::string& binary) {
        int fds[2];
        if (::pipe(fds) != 0) return;
        pid_ = ::fork();
        if (pid_ == 0) {
            ::dup2(fds[1], 1);
            ::execl(binary.c_str(), binary.c_str(), nullptr);
            ::_exit(127);
        }
        ::close(fds[1]);
        out_ = ::fdopen(fds[0], "r");
    }
    ~RunningHelper() { stop(); }
    RunningHelper(const RunningHelper&) = delete;
    RunningHelper& operator=(const RunningHelper&) = delete;
    FILE* out() const { return out_; }  // its stdout, or nullptr
    pid_t pid() const { return pid_; }
    void stop() {
        if (out_) std::fclose(out_);
        out_ = nullptr;
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

private:
    pid_t pid_ = -1;
    FILE* out_ = nullptr;
};

struct CommandResult {
    int code = -1;
    std::string out;
};

inline CommandResult run(const std::string& command) {
    CommandResult r;
    FILE* p = ::popen((command + " 2>&1").c_str(), "r");
    if (p == nullptr) return r;
    char buf[4096];
    size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
    const int status = ::pclose(p);
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

inline void write_file(const std::string& path, const std::string& text) {
    std::ofstream(path) << text;
}

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The address of `symbol` as listed by an nm-like tool's "ADDR TYPE NAME" lines.
inline std::optional<uint64_t> nm_address(const std::string& nm_command,
                                          const std::string& symbol) {
    const CommandResult r = run(nm_command);
    std::istringstream lines(r.out);
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream fields(line);
        std::string addr, type, name;
        if (fields >> addr >> type >> name && name == symbol) return std::stoull(addr, nullptr, 16);
    }
    return std::nullopt;
}

// vaddr -> file offset through readelf's PT_LOAD lines.
inline std::optional<uint64_t> file_offset_of(const std::string& binary, uint64_t vaddr) {
    const CommandResult r = run("readelf -lW " + binary);
    std::istringstream lines(r.out);
    std::string line;
    while (std::getline(lines, line)) {
        std::istringstream f(line);
        std::string type, offset, va, pa, filesz;
        if (!(f >> type >> offset >> va >> pa >> filesz) || type != "LOAD") continue;
        const uint64_t off = std::stoull(offset, nullptr, 16), start = std::stoull(va, nullptr, 16);
        if (vaddr >= start && vaddr - start < std::stoull(filesz, nullptr, 16))
            return off + (vaddr - start);
    }
    return std::nullopt;
}

inline std::vector<uint8_t> readelf_build_id(const std::string& binary) {
    const CommandResult r = run("readelf -n " + binary);
    const size_t at = r.out.find("Build ID: ");
    std::vector<uint8_t> id;
    if (at == std::string::npos) return id;
    std::istringstream hex(r.out.substr(at + 10));
    std::string digits;
    hex >> digits;
    for (size_t i = 0; i + 1 < digits.size(); i += 2) {
        id.push_back(static_cast<uint8_t>(std::stoul(digits.substr(i, 2), nullptr, 16)));
    }
    return id;
}

}  // namespace whoclosed::symtest
