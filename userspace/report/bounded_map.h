// A string-keyed map that stops growing: a trace can hold millions of
// distinct peers, and `report` must stay within bounded memory whatever it
// reads. Once `cap` keys exist, every new key lands in one "(other)" slot.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace whoclosed {

inline constexpr const char* kOtherKey = "(other)";

template <typename V>
class BoundedMap {
public:
    explicit BoundedMap(size_t cap) : cap_(cap) {}

    V& at(const std::string& key) {
        auto it = map_.find(key);
        if (it != map_.end()) return it->second;
        if (map_.size() < cap_) return map_[key];
        overflowed_ = true;
        return other_;
    }
    bool overflowed() const { return overflowed_; }
    const std::map<std::string, V>& entries() const { return map_; }
    const V& other() const { return other_; }

    // Entries ranked by `weight` (largest first, then by key), with the
    // "(other)" slot last when it was used.
    template <typename Weight>
    std::vector<std::pair<std::string, V>> ranked(Weight weight) const {
        std::vector<std::pair<std::string, V>> rows(map_.begin(), map_.end());
        std::stable_sort(rows.begin(), rows.end(), [&](const auto& a, const auto& b) {
            return weight(a.second) > weight(b.second);
        });
        if (overflowed_) rows.emplace_back(kOtherKey, other_);
        return rows;
    }

private:
    size_t cap_;
    std::map<std::string, V> map_;
    V other_{};
    bool overflowed_ = false;
};

// The key counted most often ("" when none), ties to the smallest key.
inline std::string most_counted(const BoundedMap<uint64_t>& counts) {
    std::string best;
    uint64_t best_n = 0;
    for (const auto& [k, n] : counts.entries())
        if (n > best_n) best = k, best_n = n;
    return best;
}

}  // namespace whoclosed
