#include "monitor/line_editor.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

using monitor::Completer;
using monitor::LineEditor;
using Result = LineEditor::Result;

namespace {

class StrSink final : public lib::Sink {
 public:
  void write(const char* s, usize n) override { data.append(s, n); }
  std::string take() {
    std::string r;
    r.swap(data);
    return r;
  }
  std::string data;
};

// Returns the fixed candidates that start with the word being completed, and
// records what it was asked.
class FakeCompleter final : public Completer {
 public:
  explicit FakeCompleter(std::vector<const char*> words) : words_(std::move(words)) {}
  usize complete(const char* line, usize word_start, usize cursor, const char** out, usize max) override {
    last_line = line;
    last_start = word_start;
    last_cursor = cursor;
    usize n = 0;
    for (const char* w : words_)
      if (n < max && std::strncmp(w, line + word_start, cursor - word_start) == 0) out[n++] = w;
    return n;
  }
  std::string last_line;
  usize last_start = 0, last_cursor = 0;

 private:
  std::vector<const char*> words_;
};

const std::string kUp = "\x1b[A", kDown = "\x1b[B", kRight = "\x1b[C", kLeft = "\x1b[D";

class LineEditorTest : public ::testing::Test {
 protected:
  // Feeds every byte; returns the last non-None result (None if there was none).
  Result feed(const std::string& s) {
    Result last = Result::None;
    for (char c : s) {
      Result r = ed.feed(static_cast<u8>(c));
      if (r != Result::None) last = r;
    }
    return last;
  }
  // Types a line and Enter, then starts the next one.
  void enter_line(const std::string& s) {
    ASSERT_EQ(feed(s + "\r"), Result::Line);
    ed.start("> ");
  }
  void SetUp() override {
    ed.start("> ");
    EXPECT_EQ(out.take(), "> ");
  }

  StrSink out;
  LineEditor ed{out, nullptr};
};

TEST_F(LineEditorTest, TypingEchoesAndEnterYieldsLine) {
  EXPECT_EQ(feed("help"), Result::None);
  EXPECT_EQ(out.take(), "help");
  EXPECT_STREQ(ed.line(), "help");
  EXPECT_EQ(ed.cursor(), 4u);
  EXPECT_EQ(ed.feed('\r'), Result::Line);
  EXPECT_EQ(out.take(), "\r\n");
  EXPECT_STREQ(ed.line(), "help");
}

TEST_F(LineEditorTest, EveryPrintableCharacterIsInserted) {
  std::string all;
  for (int c = 0x20; c <= 0x7e; ++c) all += static_cast<char>(c);
  feed(all);
  EXPECT_EQ(out.take(), all);
  EXPECT_EQ(std::string(ed.line()), all);
}

TEST_F(LineEditorTest, LineFeedAloneIsEnter) {
  feed("ab");
  EXPECT_EQ(ed.feed('\n'), Result::Line);
  EXPECT_STREQ(ed.line(), "ab");
}

TEST_F(LineEditorTest, CrLfPairIsOneEnter) {
  feed("ab");
  EXPECT_EQ(ed.feed('\r'), Result::Line);
  out.take();
  ed.start("> ");  // the command runs between the two bytes
  EXPECT_EQ(ed.feed('\n'), Result::None);
  EXPECT_EQ(out.take(), "> ");
  EXPECT_STREQ(ed.line(), "");
  // LF CR is one Enter too.
  feed("cd");
  EXPECT_EQ(ed.feed('\n'), Result::Line);
  ed.start("> ");
  EXPECT_EQ(ed.feed('\r'), Result::None);
  // But two CRs (or two LFs) are two Enters.
  EXPECT_EQ(ed.feed('\r'), Result::Line);
  EXPECT_STREQ(ed.line(), "");
  ed.start("> ");
  EXPECT_EQ(ed.feed('\n'), Result::None);  // pairs with the previous \r
  EXPECT_EQ(ed.feed('\n'), Result::Line);
  ed.start("> ");
  EXPECT_EQ(ed.feed('\n'), Result::Line);
}

TEST_F(LineEditorTest, CrLfSequenceOfLinesGivesNoEmptyLines) {
  std::string in = "one\r\ntwo\r\n\r\nthree\n\r";
  std::vector<std::string> lines;
  for (char c : in) {
    if (ed.feed(static_cast<u8>(c)) == Result::Line) {
      lines.push_back(ed.line());
      ed.start("> ");
    }
  }
  EXPECT_EQ(lines, (std::vector<std::string>{"one", "two", "", "three"}));
}

TEST_F(LineEditorTest, InsertInTheMiddleRedrawsTail) {
  feed("hllo");
  out.take();
  feed(kLeft + kLeft + kLeft);
  EXPECT_EQ(out.take(), "\b\b\b");
  EXPECT_EQ(ed.cursor(), 1u);
  feed("e");
  EXPECT_EQ(out.take(), "ello\x1b[3D");
  EXPECT_STREQ(ed.line(), "hello");
  EXPECT_EQ(ed.cursor(), 2u);
  feed("\r");
  EXPECT_STREQ(ed.line(), "hello");  // Enter in the middle takes the whole line
}

TEST_F(LineEditorTest, BackspaceAtEndAndInMiddle) {
  feed("abc");
  out.take();
  ed.feed(0x7f);
  EXPECT_EQ(out.take(), "\b\x1b[K");
  EXPECT_STREQ(ed.line(), "ab");
  ed.feed(0x08);
  EXPECT_EQ(out.take(), "\b\x1b[K");
  EXPECT_STREQ(ed.line(), "a");
  feed("bcd" + kLeft + kLeft);
  out.take();
  ed.feed(0x7f);  // deletes the 'b' before the cursor
  EXPECT_EQ(out.take(), "\bcd\x1b[K\x1b[2D");
  EXPECT_STREQ(ed.line(), "acd");
  EXPECT_EQ(ed.cursor(), 1u);
  ed.feed(0x7f);
  ed.feed(0x7f);  // at the start: nothing
  EXPECT_STREQ(ed.line(), "cd");
  EXPECT_EQ(ed.cursor(), 0u);
}

TEST_F(LineEditorTest, CtrlUKillsWholeLine) {
  feed("hello world" + kLeft + kLeft);
  out.take();
  ed.feed(0x15);
  EXPECT_EQ(out.take(), "\x1b[9D\x1b[K");
  EXPECT_STREQ(ed.line(), "");
  EXPECT_EQ(ed.cursor(), 0u);
  ed.feed(0x15);  // on an empty line: harmless
  EXPECT_STREQ(ed.line(), "");
}

TEST_F(LineEditorTest, CtrlWDeletesWordBeforeCursor) {
  feed("walk ffff8000  ");
  out.take();
  ed.feed(0x17);
  EXPECT_STREQ(ed.line(), "walk ");
  EXPECT_EQ(ed.cursor(), 5u);
  EXPECT_EQ(out.take(), "\x1b[10D\x1b[K");
  ed.feed(0x17);
  EXPECT_STREQ(ed.line(), "");
  ed.feed(0x17);
  EXPECT_STREQ(ed.line(), "");
  // In the middle: keeps the text after the cursor.
  feed("aa bb cc" + kLeft + kLeft + kLeft);
  ed.feed(0x17);
  EXPECT_STREQ(ed.line(), "aa  cc");
  EXPECT_EQ(ed.cursor(), 3u);
}

TEST_F(LineEditorTest, CtrlCCancels) {
  feed("abc");
  out.take();
  EXPECT_EQ(ed.feed(0x03), Result::Cancel);
  EXPECT_EQ(out.take(), "^C\r\n");
  EXPECT_STREQ(ed.line(), "");
  EXPECT_EQ(ed.history_size(), 0u);
  ed.start("> ");
  EXPECT_EQ(feed("x\r"), Result::Line);
  EXPECT_STREQ(ed.line(), "x");
}

TEST_F(LineEditorTest, HomeEndKeys) {
  feed("abcd");
  out.take();
  ed.feed(0x01);
  EXPECT_EQ(ed.cursor(), 0u);
  EXPECT_EQ(out.take(), "\x1b[4D");
  ed.feed(0x05);
  EXPECT_EQ(ed.cursor(), 4u);
  EXPECT_EQ(out.take(), "\x1b[4C");
  for (const char* home : {"\x1b[H", "\x1bOH", "\x1b[1~", "\x1b[7~"}) {
    feed("\x05");
    feed(home);
    EXPECT_EQ(ed.cursor(), 0u) << home + 1;
  }
  for (const char* end : {"\x1b[F", "\x1bOF", "\x1b[4~", "\x1b[8~"}) {
    feed("\x01");
    feed(end);
    EXPECT_EQ(ed.cursor(), 4u) << end + 1;
  }
  EXPECT_STREQ(ed.line(), "abcd");
}

TEST_F(LineEditorTest, ArrowsMoveWithinBounds) {
  feed("ab");
  out.take();
  feed(kRight);  // at the end: nothing
  EXPECT_EQ(out.take(), "");
  EXPECT_EQ(ed.cursor(), 2u);
  feed(kLeft);
  EXPECT_EQ(out.take(), "\b");
  feed(kLeft + kLeft + kLeft);
  EXPECT_EQ(ed.cursor(), 0u);
  feed(kRight);
  EXPECT_EQ(out.take(), "\b\x1b[1C");
  EXPECT_EQ(ed.cursor(), 1u);
  feed("\x1bOD");  // SS3 form
  EXPECT_EQ(ed.cursor(), 0u);
  feed("\x1bOC");
  EXPECT_EQ(ed.cursor(), 1u);
  EXPECT_STREQ(ed.line(), "ab");
}

TEST_F(LineEditorTest, CtrlArrowsMoveByWord) {
  feed("walk 0x1000 more");
  feed("\x1b[1;5D");
  EXPECT_EQ(ed.cursor(), 12u);
  feed("\x1b[1;5D");
  EXPECT_EQ(ed.cursor(), 5u);
  feed("\x1b[1;5C");
  EXPECT_EQ(ed.cursor(), 11u);
  feed("\x1b[1;2D");  // Shift: one character
  EXPECT_EQ(ed.cursor(), 10u);
  EXPECT_STREQ(ed.line(), "walk 0x1000 more");
}

TEST_F(LineEditorTest, DeleteKeyDeletesUnderCursor) {
  feed("abc" + kLeft + kLeft);
  out.take();
  feed("\x1b[3~");
  EXPECT_EQ(out.take(), "c\x1b[K\b");
  EXPECT_STREQ(ed.line(), "ac");
  EXPECT_EQ(ed.cursor(), 1u);
  feed("\x1b[3~\x1b[3~");  // at the end: nothing more
  EXPECT_STREQ(ed.line(), "a");
}

TEST_F(LineEditorTest, CtrlLRedraws) {
  feed("abc" + kLeft);
  out.take();
  ed.feed(0x0c);
  EXPECT_EQ(out.take(), "\x1b[H\x1b[2J> abc\b");
  EXPECT_STREQ(ed.line(), "abc");
}

TEST_F(LineEditorTest, HistoryUpDown) {
  enter_line("one");
  enter_line("two");
  enter_line("three");
  feed("par");
  out.take();
  feed(kUp);
  EXPECT_STREQ(ed.line(), "three");
  EXPECT_EQ(ed.cursor(), 5u);
  EXPECT_EQ(out.take(), "\x1b[3Dthree");
  feed(kUp);
  EXPECT_EQ(out.take(), "\x1b[5Dtwo\x1b[K");
  EXPECT_STREQ(ed.line(), "two");
  feed(kUp);
  EXPECT_STREQ(ed.line(), "one");
  feed(kUp);  // oldest: stays
  EXPECT_STREQ(ed.line(), "one");
  feed(kDown + kDown);
  EXPECT_STREQ(ed.line(), "three");
  feed(kDown);  // past the newest: the line being typed comes back
  EXPECT_STREQ(ed.line(), "par");
  feed(kDown);
  EXPECT_STREQ(ed.line(), "par");
  feed("\x1bOA");  // SS3 up
  EXPECT_STREQ(ed.line(), "three");
}

TEST_F(LineEditorTest, HistorySkipsEmptyAndDuplicates) {
  enter_line("a");
  enter_line("a");
  enter_line("");
  enter_line("   ");
  enter_line("b");
  enter_line("a");
  ASSERT_EQ(ed.history_size(), 3u);
  EXPECT_STREQ(ed.history_at(0), "a");
  EXPECT_STREQ(ed.history_at(1), "b");
  EXPECT_STREQ(ed.history_at(2), "a");
  EXPECT_EQ(ed.history_at(3), nullptr);
}

TEST_F(LineEditorTest, EditingRecalledLineKeepsHistory) {
  enter_line("walk 1000");
  feed(kUp + "\x7f\x7f\x7f\x7f" + "2000");
  EXPECT_STREQ(ed.line(), "walk 2000");
  EXPECT_STREQ(ed.history_at(0), "walk 1000");
  feed(kDown + kUp);  // edits of a recalled line are not kept
  EXPECT_STREQ(ed.line(), "walk 1000");
  feed("\x15x 5\r");
  EXPECT_STREQ(ed.line(), "x 5");
  ASSERT_EQ(ed.history_size(), 2u);
  EXPECT_STREQ(ed.history_at(0), "x 5");
  EXPECT_STREQ(ed.history_at(1), "walk 1000");
}

TEST_F(LineEditorTest, HistoryRingKeepsNewest32Of40) {
  for (int i = 0; i < 40; ++i) enter_line("cmd" + std::to_string(i));
  ASSERT_EQ(ed.history_size(), LineEditor::kHistory);
  ASSERT_GE(LineEditor::kHistory, 32u);
  for (usize i = 0; i < ed.history_size(); ++i)
    EXPECT_EQ(std::string(ed.history_at(i)), "cmd" + std::to_string(39 - i));
  for (usize i = 0; i < 50; ++i) feed(kUp);
  EXPECT_EQ(std::string(ed.line()), "cmd" + std::to_string(40 - LineEditor::kHistory));
  for (usize i = 0; i < 50; ++i) feed(kDown);
  EXPECT_STREQ(ed.line(), "");
}

TEST_F(LineEditorTest, LimitDropsExtraInputWithBell) {
  std::string burst(10 * 1024, 'x');
  for (usize i = 0; i < burst.size(); ++i) burst[i] = static_cast<char>('a' + i % 26);
  feed(burst);
  std::string echo = out.take();
  ASSERT_EQ(ed.length(), monitor::kMaxLine);
  ASSERT_GE(monitor::kMaxLine, 256u);
  EXPECT_EQ(std::string(ed.line()), burst.substr(0, monitor::kMaxLine));
  EXPECT_EQ(echo.substr(0, monitor::kMaxLine), burst.substr(0, monitor::kMaxLine));
  EXPECT_EQ(echo.substr(monitor::kMaxLine), std::string(burst.size() - monitor::kMaxLine, '\a'));
  // Inserting in the middle of a full line is refused too, without damage.
  feed(kLeft + "Z");
  EXPECT_EQ(std::string(ed.line()), burst.substr(0, monitor::kMaxLine));
  // After a backspace one character fits again.
  feed(
      "\x05\x7f"
      "Q");
  EXPECT_EQ(ed.length(), monitor::kMaxLine);
  EXPECT_EQ(ed.line()[monitor::kMaxLine - 1], 'Q');
  EXPECT_EQ(ed.feed('\r'), Result::Line);
  EXPECT_EQ(std::strlen(ed.line()), monitor::kMaxLine);
}

TEST_F(LineEditorTest, UnknownSequencesAreDroppedWhole) {
  feed("a");
  out.take();
  for (const char* seq : {"\x1b[15~",
                          "\x1b[200~",
                          "\x1b[201~",
                          "\x1b[2~",
                          "\x1b[5~",
                          "\x1b[6~",
                          "\x1b[24;5~",
                          "\x1b[?25h",
                          "\x1b[<0;12;4M",
                          "\x1b[Z",
                          "\x1b[1;2P",
                          "\x1bOP",
                          "\x1bOQ",
                          "\x1bO1;2P",
                          "\x1b"
                          "b",
                          "\x1b~",
                          "\x1b(B",
                          "\x1b[1;2;3A",
                          "\x1b[5A",
                          "\x1b[1:2~",
                          "\x1b[12345~"}) {
    feed(seq);
    EXPECT_EQ(out.take(), "") << seq + 1;
    EXPECT_STREQ(ed.line(), "a") << seq + 1;
  }
  feed("b");
  EXPECT_STREQ(ed.line(), "ab");
}

TEST_F(LineEditorTest, BracketedPasteKeepsOnlyTheText) {
  feed("\x1b[200~x 1000\x1b[201~");
  EXPECT_STREQ(ed.line(), "x 1000");
}

TEST_F(LineEditorTest, OverlongCsiIsConsumedToItsFinalByte) {
  feed("a");
  out.take();
  std::string seq = "\x1b[" + std::string(40, '1') + ";" + std::string(20, '2') + "~";
  feed(seq);
  EXPECT_EQ(out.take(), "");
  EXPECT_STREQ(ed.line(), "a");
  // 16 parameter bytes still count as a sequence; 17 are never interpreted.
  feed("\x1b[0000000000000003~");  // 16 bytes: Delete (at end: no-op)
  feed("\x1b[1;5D");
  EXPECT_EQ(ed.cursor(), 0u);
  feed("\x1b[00000000000000003~");  // 17 bytes: dropped, not a Delete
  EXPECT_STREQ(ed.line(), "a");
  feed("\x1b[0000000000000003~");
  EXPECT_STREQ(ed.line(), "");
}

TEST_F(LineEditorTest, CutOffSequencesAreAbandoned) {
  feed("a");
  out.take();
  // The byte that breaks a sequence is dropped with it.
  feed("\x1b\x01");
  feed("\x1b[1\x7f");
  feed("\x1b[\x03");
  feed("\x1bO\r");
  feed("\x1b(\x0d");
  feed("\x1b\x80");
  EXPECT_EQ(out.take(), "");
  EXPECT_STREQ(ed.line(), "a");
  // ESC restarts: the second sequence is whole and acts.
  feed("\x1b[1\x1b[D");
  EXPECT_EQ(ed.cursor(), 0u);
  feed("\x1b\x1b\x1b[C");
  EXPECT_EQ(ed.cursor(), 1u);
  // Afterwards the editor is back to normal.
  EXPECT_EQ(feed("b\r"), Result::Line);
  EXPECT_STREQ(ed.line(), "ab");
}

TEST_F(LineEditorTest, NulAndUnlistedControlBytesAndHighBytesAreIgnored) {
  std::string junk;
  junk += '\0';
  for (int c : {0x02, 0x04, 0x06, 0x07, 0x0b, 0x0e, 0x0f, 0x10, 0x11, 0x12,
                0x13, 0x14, 0x16, 0x18, 0x19, 0x1a, 0x1c, 0x1d, 0x1e, 0x1f})
    junk += static_cast<char>(c);
  for (int c = 0x80; c <= 0xff; ++c) junk += static_cast<char>(c);
  feed("a" + junk + "b");
  EXPECT_EQ(out.take(), "ab");
  EXPECT_STREQ(ed.line(), "ab");
  EXPECT_EQ(ed.cursor(), 2u);
}

TEST_F(LineEditorTest, TabWithoutCompleterRingsBell) {
  feed("he\t");
  EXPECT_EQ(out.take(), "he\a");
  EXPECT_STREQ(ed.line(), "he");
}

TEST_F(LineEditorTest, FeedingAfterLineWithoutStartBeginsFreshLine) {
  feed("abc\r");
  EXPECT_STREQ(ed.line(), "abc");
  feed("d");
  EXPECT_STREQ(ed.line(), "d");
}

class CompletionTest : public LineEditorTest {
 protected:
  FakeCompleter comp{{"help", "halt", "percpu", "pml4", "physmap", "phys", "walk", "all"}};
  LineEditor ced{out, &comp};
  Result cfeed(const std::string& s) {
    Result last = Result::None;
    for (char c : s)
      if (Result r = ced.feed(static_cast<u8>(c)); r != Result::None) last = r;
    return last;
  }
  void SetUp() override {
    ced.start("kmon> ");
    out.take();
  }
};

TEST_F(CompletionTest, UniqueCandidateCompletesWithSpace) {
  cfeed("wa\t");
  EXPECT_STREQ(ced.line(), "walk ");
  EXPECT_EQ(out.take(), "walk ");
  EXPECT_EQ(comp.last_line, "wa");
  EXPECT_EQ(comp.last_start, 0u);
  EXPECT_EQ(comp.last_cursor, 2u);
}

TEST_F(CompletionTest, CommonPrefixIsInserted) {
  cfeed("pe\t");
  EXPECT_STREQ(ced.line(), "percpu ");
  out.take();
  cfeed("\x15ph\t");
  EXPECT_STREQ(ced.line(), "phys");  // physmap, phys share "phys"
  EXPECT_EQ(out.take(),
            "\x1b[7D\x1b[K"
            "phys");
}

TEST_F(CompletionTest, SeveralWithoutProgressListsThem) {
  cfeed("p\t");
  EXPECT_EQ(out.take(), "p\r\npercpu  pml4  physmap  phys\r\nkmon> p");
  EXPECT_STREQ(ced.line(), "p");
  cfeed("\x15h");
  out.take();
  cfeed("\t");
  EXPECT_EQ(out.take(), "\r\nhelp  halt\r\nkmon> h");
}

TEST_F(CompletionTest, ListRedrawRestoresCursorPosition) {
  cfeed("p x");
  cfeed("\x1b[D\x1b[D");
  out.take();
  cfeed("\t");
  EXPECT_EQ(out.take(), "\r\npercpu  pml4  physmap  phys\r\nkmon> p x\x1b[2D");
  EXPECT_EQ(ced.cursor(), 1u);
}

TEST_F(CompletionTest, NoCandidateRingsBell) {
  cfeed("zz");
  out.take();
  cfeed("\t");
  EXPECT_EQ(out.take(), "\a");
  EXPECT_STREQ(ced.line(), "zz");
}

TEST_F(CompletionTest, CompletesLaterWordsAndInTheMiddle) {
  cfeed("percpu a\t");
  EXPECT_STREQ(ced.line(), "percpu all ");
  EXPECT_EQ(comp.last_start, 7u);
  cfeed("\x15x wa 5");
  cfeed("\x1b[D\x1b[D");
  out.take();
  cfeed("\t");
  // Next char is already a space: step over it rather than doubling it.
  EXPECT_STREQ(ced.line(), "x walk 5");
  EXPECT_EQ(ced.cursor(), 7u);
  EXPECT_EQ(out.take(), "lk 5\x1b[2D\x1b[1C");
}

TEST_F(CompletionTest, CompletionNeverExceedsLimit) {
  cfeed(std::string(monitor::kMaxLine - 2, 'x') + " w");
  out.take();
  cfeed("\t");
  EXPECT_EQ(ced.length(), monitor::kMaxLine);
  EXPECT_EQ(std::string(ced.line()).substr(monitor::kMaxLine - 1), "w");
  EXPECT_EQ(out.take(), "\a");
}

// A completer returning junk: the editor must filter it.
class BadCompleter final : public Completer {
 public:
  usize complete(const char*, usize, usize, const char** out, usize max) override {
    const char* junk[] = {nullptr, "has space", "x\x1b[2J", "other"};
    usize n = 0;
    for (const char* j : junk)
      if (n < max) out[n++] = j;
    return max + 100;  // lies about the count too
  }
};

TEST(LineEditorBadCompleter, JunkCandidatesAreIgnored) {
  StrSink out;
  BadCompleter bad;
  LineEditor ed(out, &bad);
  ed.start("> ");
  for (char c : std::string("x\t")) ed.feed(static_cast<u8>(c));
  EXPECT_STREQ(ed.line(), "x");
  EXPECT_EQ(out.take(), "> x\a");
}

TEST(LineEditorRandom, HundredThousandRandomBytesKeepInvariants) {
  StrSink out;
  FakeCompleter comp{{"help", "halt", "percpu", "pml4", "all", "a"}};
  LineEditor ed(out, &comp);
  ed.start("> ");
  std::mt19937 rng(12345);
  // Bias towards the interesting bytes so that sequences and edits are frequent.
  const std::string special = "\x1b[O~;0123ABCDHF\r\n\t\x7f\x08\x01\x05\x15\x17\x03\x0c";
  for (int i = 0; i < 100000; ++i) {
    u32 r = rng();
    u8 b;
    if (r % 3 == 0)
      b = static_cast<u8>(special[(r >> 8) % special.size()]);
    else
      b = static_cast<u8>(r >> 8);
    Result res = ed.feed(b);
    if (res != Result::None) ed.start("> ");
    usize len = std::strlen(ed.line());
    ASSERT_LE(len, monitor::kMaxLine);
    ASSERT_EQ(len, ed.length());
    ASSERT_LE(ed.cursor(), len);
    for (usize k = 0; k < len; ++k) ASSERT_TRUE(ed.line()[k] >= 0x20 && ed.line()[k] <= 0x7e);
    ASSERT_LE(ed.history_size(), LineEditor::kHistory);
    if (i % 4096 == 0) out.take();
  }
  for (usize i = 0; i < ed.history_size(); ++i) {
    ASSERT_NE(ed.history_at(i), nullptr);
    ASSERT_GT(std::strlen(ed.history_at(i)), 0u);
  }
}

TEST(LineEditorConstexpr, GlobalEditorNeedsNoStaticConstructor) {
  static StrSink sink;
  static constinit LineEditor ed(sink, nullptr);
  ed.start("$ ");
  ed.feed('q');
  EXPECT_STREQ(ed.line(), "q");
}

}  // namespace
