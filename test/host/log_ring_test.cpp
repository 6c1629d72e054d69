#include "lib/log_ring.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace {

std::vector<std::string> read_lines(const lib::LogRing& r, usize last = 0, usize piece = 512) {
  std::vector<std::string> out;
  lib::LogRing::Cursor c = r.lines(last);
  std::vector<char> buf(piece);
  std::string cur;
  u64 resyncs = 0;
  for (usize n; (n = r.next(&c, buf.data(), buf.size())) != 0;) {
    if (c.resyncs != resyncs) cur.clear();  // the rest of a long line was overwritten
    resyncs = c.resyncs;
    cur.append(buf.data(), n);
    if (cur.back() == '\n') {
      out.push_back(cur);
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

void put(lib::LogRing& r, const std::string& s) { r.append(s.data(), s.size()); }

TEST(LogRing, KeepsLinesExactly) {
  char buf[256];
  lib::LogRing r(buf, sizeof buf);
  EXPECT_TRUE(read_lines(r).empty());
  put(r, "\nkmon: banner\n");
  put(r, "two ");
  put(r, "parts\n\n");
  put(r, "tail without newline");
  std::vector<std::string> want{"\n", "kmon: banner\n", "two parts\n", "\n", "tail without newline"};
  EXPECT_EQ(read_lines(r), want);
  EXPECT_EQ(r.head(), r.committed());
}

TEST(LogRing, LastLines) {
  char buf[256];
  lib::LogRing r(buf, sizeof buf);
  for (int i = 0; i < 6; ++i) put(r, "line " + std::to_string(i) + "\n");
  EXPECT_EQ(read_lines(r, 2), (std::vector<std::string>{"line 4\n", "line 5\n"}));
  EXPECT_EQ(read_lines(r, 1), (std::vector<std::string>{"line 5\n"}));
  EXPECT_EQ(read_lines(r, 6).size(), 6u);
  EXPECT_EQ(read_lines(r, 100).size(), 6u);  // fewer than asked: all of them
  put(r, "partial");
  EXPECT_EQ(read_lines(r, 2), (std::vector<std::string>{"line 5\n", "partial"}));
  put(r, "\n\n");
  EXPECT_EQ(read_lines(r, 2), (std::vector<std::string>{"partial\n", "\n"}));
}

TEST(LogRing, WrapDropsOnlyTheCutOldestLine) {
  char buf[64];
  lib::LogRing r(buf, sizeof buf);
  std::vector<std::string> all;
  for (int i = 0; i < 100; ++i) {
    std::string s = "msg " + std::to_string(i) + std::string(static_cast<usize>(i % 7), 'x') + "\n";
    all.push_back(s);
    put(r, s);
  }
  EXPECT_EQ(r.head(), r.committed());
  std::vector<std::string> got = read_lines(r);
  ASSERT_FALSE(got.empty());
  // A suffix of what was written, whole lines, and as much as fits after the cut line.
  std::vector<std::string> tail(all.end() - static_cast<long>(got.size()), all.end());
  EXPECT_EQ(got, tail);
  usize bytes = 0;
  for (const auto& s : got) bytes += s.size();
  EXPECT_LE(bytes, 64u);
  EXPECT_GE(bytes + all[all.size() - got.size() - 1].size(), 64u);  // the skipped one reached the cut
  EXPECT_EQ(read_lines(r, 3), std::vector<std::string>(all.end() - 3, all.end()));
}

TEST(LogRing, LongLinesInPiecesAndOversizedAppend) {
  char buf[32];
  lib::LogRing r(buf, sizeof buf);
  put(r, std::string(100, 'a') + "\n");  // larger than the ring: its last 32 bytes stay
  std::vector<std::string> got = read_lines(r);
  EXPECT_TRUE(got.empty());  // all that is left is the end of one line whose start is gone
  put(r, "0123456789abcdef\n");
  EXPECT_EQ(read_lines(r, 0, 5), (std::vector<std::string>{"0123456789abcdef\n"}));
}

// Several writers at once, each line one append, with a reader running alongside: every
// line read back is one that was written, whole (never torn or mixed with another), and
// each writer's lines come in its order.
TEST(LogRing, ConcurrentWritersNeverTearLines) {
  static char buf[1024];
  // Threads get preempted (kernel writers do not): a waiting commit yields.
  lib::LogRing r(buf, sizeof buf, [] { std::this_thread::yield(); });
  constexpr int kThreads = 4, kLines = 4000;
  std::atomic<bool> done{false};
  auto check = [](const std::vector<std::string>& lines, bool full) {
    std::vector<long> last(kThreads, -1);
    for (const auto& l : lines) {
      // "w<t> <seq> <payload of t+seq%13 letters>;<checksum>\n"
      ASSERT_FALSE(l.empty());
      if (l.back() != '\n') {
        ASSERT_FALSE(full) << l;
        continue;
      }
      int t = -1;
      long seq = -1;
      char payload[64] = {};
      unsigned sum = 0;
      ASSERT_EQ(sscanf(l.c_str(), "w%d %ld %63[a-z];%u\n", &t, &seq, payload, &sum), 4) << l;
      ASSERT_TRUE(t >= 0 && t < kThreads) << l;
      std::string want = "w" + std::to_string(t) + " " + std::to_string(seq) + " " +
                         std::string(static_cast<usize>(1 + t + seq % 13), static_cast<char>('a' + t)) + ";" +
                         std::to_string(static_cast<unsigned>(seq * 7 + t)) + "\n";
      ASSERT_EQ(l, want);
      ASSERT_GT(seq, last[static_cast<usize>(t)]) << l;
      last[static_cast<usize>(t)] = seq;
    }
  };
  std::thread reader([&] {
    while (!done.load()) check(read_lines(r, 0, 37), false);
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&r, t] {
      for (long seq = 0; seq < kLines; ++seq) {
        std::string s = "w" + std::to_string(t) + " " + std::to_string(seq) + " " +
                        std::string(static_cast<usize>(1 + t + seq % 13), static_cast<char>('a' + t)) + ";" +
                        std::to_string(static_cast<unsigned>(seq * 7 + t)) + "\n";
        r.append(s.data(), s.size());
      }
    });
  }
  for (auto& w : writers) w.join();
  done = true;
  reader.join();
  EXPECT_EQ(r.head(), r.committed());
  std::vector<std::string> final_lines = read_lines(r);
  check(final_lines, true);
  usize bytes = 0;
  for (const auto& s : final_lines) bytes += s.size();
  EXPECT_GT(bytes, sizeof buf - 64);  // everything but the cut oldest line
  EXPECT_EQ(read_lines(r, 10).size(), 10u);
}

}  // namespace
