// A bounded map that forgets the least recently used entry: every cache in
// the symbolizers (pids, binaries, build-ids) is one of these, so memory
// stays bounded however many processes and binaries a trace sees.
#pragma once

#include <cstddef>
#include <list>
#include <unordered_map>
#include <utility>

namespace whoclosed {

template <class Key, class Value, class Hash = std::hash<Key>>
class LruCache {
public:
    explicit LruCache(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

    // The entry, now most recently used; nullptr if absent. The pointer is
    // valid until the next put().
    Value* get(const Key& key) {
        auto it = index_.find(key);
        if (it == index_.end()) return nullptr;
        order_.splice(order_.begin(), order_, it->second);
        return &it->second->second;
    }

    Value& put(const Key& key, Value value) {
        if (Value* existing = get(key)) {
            *existing = std::move(value);
            return *existing;
        }
        if (index_.size() >= capacity_) {
            index_.erase(order_.back().first);
            order_.pop_back();
        }
        order_.emplace_front(key, std::move(value));
        index_.emplace(key, order_.begin());
        return order_.front().second;
    }

    void erase(const Key& key) {
        auto it = index_.find(key);
        if (it == index_.end()) return;
        order_.erase(it->second);
        index_.erase(it);
    }

    size_t size() const { return index_.size(); }
    size_t capacity() const { return capacity_; }

private:
    using Entry = std::pair<Key, Value>;
    size_t capacity_;
    std::list<Entry> order_;
    std::unordered_map<Key, typename std::list<Entry>::iterator, Hash> index_;
};

}  // namespace whoclosed
