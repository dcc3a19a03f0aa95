#pragma once

// Counting over attempt timelines, in microseconds (actor tests) or in
// milliseconds read back from a results file (end-to-end tests).

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

namespace troupe::test {

/// The most of `starts` within any half-open window [t, t + window).
template <class T>
size_t most_within(std::vector<T> starts, T window) {
  std::sort(starts.begin(), starts.end());
  size_t most = 0;
  size_t lo = 0;
  for (size_t hi = 0; hi < starts.size(); ++hi) {
    while (starts[hi] - starts[lo] >= window)
      ++lo;
    most = std::max(most, hi - lo + 1);
  }
  return most;
}

/// The most of the half-open intervals [start, end) that overlap.
template <class T>
size_t max_overlap(const std::vector<std::pair<T, T>>& intervals) {
  std::vector<std::pair<T, int>> edges;
  for (auto& [start, end] : intervals) {
    edges.emplace_back(start, +1);
    edges.emplace_back(end, -1);
  }
  std::sort(edges.begin(), edges.end()); // ends (-1) before starts at a tie
  int now = 0;
  int most = 0;
  for (auto& e : edges)
    most = std::max(most, now += e.second);
  return static_cast<size_t>(most);
}

} // namespace troupe::test
