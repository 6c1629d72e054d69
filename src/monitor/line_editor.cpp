#include "monitor/line_editor.hpp"

#include "lib/string.hpp"

namespace monitor {

namespace {

constexpr u8 kEsc = 0x1b;

constexpr u8 ctrl(char c) { return static_cast<u8>(c & 0x1f); }

bool is_printable(u8 b) { return b >= 0x20 && b <= 0x7e; }

// Candidates are inserted into the line, so they must be plain words: anything
// else from a buggy completer would break the word logic or the terminal.
bool is_word(const char* s) {
  for (; *s != '\0'; ++s)
    if (static_cast<u8>(*s) <= 0x20 || static_cast<u8>(*s) >= 0x7f) return false;
  return true;
}

}  // namespace

void LineEditor::start(const char* prompt) {
  prompt_ = prompt != nullptr ? prompt : "";
  reset_line();
  done_ = false;
  // A half-received sequence belongs to the previous line; last_enter_ is kept on
  // purpose: the '\n' of a "\r\n" usually arrives after the command ran and start()
  // printed the next prompt.
  esc_ = Esc::None;
  out_.write(prompt_, lib::strlen(prompt_));
}

void LineEditor::reset_line() {
  len_ = 0;
  cur_ = 0;
  buf_[0] = '\0';
  hist_pos_ = 0;
}

const char* LineEditor::history_at(usize i) const {
  if (i >= hist_count_) return nullptr;
  return hist_[(hist_next_ + kHistory - 1 - i) % kHistory];
}

LineEditor::Result LineEditor::feed(u8 b) {
  if (last_enter_ != 0) {
    u8 prev = last_enter_;
    last_enter_ = 0;
    if ((prev == '\r' && b == '\n') || (prev == '\n' && b == '\r')) return Result::None;
  }
  if (done_) {
    reset_line();
    done_ = false;
  }
  if (esc_ != Esc::None) {
    feed_escape(b);
    return Result::None;
  }
  if (is_printable(b)) {
    char c = static_cast<char>(b);
    insert(&c, 1);
    return Result::None;
  }
  switch (b) {
    case '\r':
    case '\n': return on_enter(b);
    case ctrl('C'):
      out_.write("^C\r\n", 4);
      reset_line();
      done_ = true;
      return Result::Cancel;
    case 0x7f:
    case ctrl('H'):
      if (cur_ > 0) delete_range(cur_ - 1, cur_);
      break;
    case ctrl('U'): delete_range(0, len_); break;
    case ctrl('W'): {
      usize i = cur_;
      while (i > 0 && buf_[i - 1] == ' ') --i;
      while (i > 0 && buf_[i - 1] != ' ') --i;
      delete_range(i, cur_);
      break;
    }
    case ctrl('A'): move_to(0); break;
    case ctrl('E'): move_to(len_); break;
    case ctrl('L'):
      out_.write("\x1b[H\x1b[2J", 7);
      redraw_all();
      break;
    case '\t': complete(); break;
    case kEsc: esc_ = Esc::Esc; break;
    default: break;  // NUL, other control bytes and 8-bit bytes: ignored
  }
  return Result::None;
}

LineEditor::Result LineEditor::on_enter(u8 b) {
  out_.write("\r\n", 2);
  buf_[len_] = '\0';
  add_history();
  hist_pos_ = 0;
  done_ = true;
  last_enter_ = b;
  return Result::Line;
}

void LineEditor::feed_escape(u8 b) {
  // ESC anywhere restarts; any other byte outside the printable range cuts the
  // sequence off and is dropped with it (see the header).
  if (b == kEsc) {
    esc_ = Esc::Esc;
    return;
  }
  if (!is_printable(b)) {
    esc_ = Esc::None;
    return;
  }
  switch (esc_) {
    case Esc::Esc:
      seq_len_ = 0;
      seq_overlong_ = false;
      if (b == '[')
        esc_ = Esc::Csi;
      else if (b == 'O')
        esc_ = Esc::Ss3;
      else if (b <= 0x2f)
        esc_ = Esc::Inter;  // nF escape, e.g. ESC ( B
      else
        esc_ = Esc::None;  // two-byte escape: none supported
      return;
    case Esc::Inter:
      if (b >= 0x30) esc_ = Esc::None;  // final byte: ignored
      return;
    case Esc::Csi:
    case Esc::Ss3:
      if (b <= 0x3f) {  // parameter or intermediate byte
        if (seq_len_ < kMaxSeq)
          seq_[seq_len_++] = b;
        else
          seq_overlong_ = true;
        return;
      }
      if (!seq_overlong_) {
        if (esc_ == Esc::Csi)
          on_csi(b);
        else if (seq_len_ == 0)
          on_ss3(b);
      }
      esc_ = Esc::None;
      return;
    case Esc::None: return;
  }
}

void LineEditor::on_csi(u8 final_byte) {
  // Parameters as "p1;p2" (decimal, each optional); anything else (private markers
  // like '?' or '<', intermediates, more fields) is a sequence we do not know.
  u32 param[2] = {0, 0};
  usize field = 0;
  for (usize i = 0; i < seq_len_; ++i) {
    u8 c = seq_[i];
    if (c == ';') {
      if (++field >= 2) return;
    } else if (c >= '0' && c <= '9') {
      param[field] = param[field] * 10 + (c - '0');
      if (param[field] > 9999) return;
    } else {
      return;
    }
  }
  // xterm encodes modifiers as 1 + bits (Shift 1, Alt 2, Ctrl 4) in the second field.
  bool ctrl_mod = field == 1 && param[1] >= 1 && ((param[1] - 1) & 4) != 0;
  if (final_byte == '~') {
    if (param[0] == 1 || param[0] == 7)
      move_to(0);
    else if (param[0] == 4 || param[0] == 8)
      move_to(len_);
    else if (param[0] == 3) {
      if (cur_ < len_) delete_range(cur_, cur_ + 1);
    }
    return;  // others (Insert, PgUp/PgDn, F-keys, 200~/201~ paste marks): ignored
  }
  if (param[0] > 1) return;  // a count on a cursor key: not sent by keyboards
  switch (final_byte) {
    case 'A': history_up(); break;
    case 'B': history_down(); break;
    case 'C': ctrl_mod ? word_right() : move_to(cur_ < len_ ? cur_ + 1 : len_); break;
    case 'D': ctrl_mod ? word_left() : move_to(cur_ > 0 ? cur_ - 1 : 0); break;
    case 'H': move_to(0); break;
    case 'F': move_to(len_); break;
    default: break;
  }
}

void LineEditor::on_ss3(u8 final_byte) {
  // Terminals in application cursor mode send ESC O for the same keys.
  switch (final_byte) {
    case 'A': history_up(); break;
    case 'B': history_down(); break;
    case 'C': move_to(cur_ < len_ ? cur_ + 1 : len_); break;
    case 'D': move_to(cur_ > 0 ? cur_ - 1 : 0); break;
    case 'H': move_to(0); break;
    case 'F': move_to(len_); break;
    default: break;
  }
}

// Inserts at the cursor as much of s[0, n) as fits; rings the bell and returns false
// if some of it did not fit. What was already typed is never touched.
bool LineEditor::insert(const char* s, usize n) {
  usize room = kMaxLine - len_;
  usize k = n < room ? n : room;
  if (k > 0) {
    memmove(buf_ + cur_ + k, buf_ + cur_, len_ - cur_);
    memcpy(buf_ + cur_, s, k);
    len_ += k;
    buf_[len_] = '\0';
    // Echo the new text and everything after it, then step back over the tail.
    out_.write(buf_ + cur_, len_ - cur_);
    cur_ += k;
    move_left(len_ - cur_);
  }
  if (k < n) {
    bell();
    return false;
  }
  return true;
}

void LineEditor::delete_range(usize from, usize to) {
  if (from >= to || to > len_) return;
  usize old_len = len_;
  move_to(from);
  memmove(buf_ + from, buf_ + to, len_ - to);
  len_ -= to - from;
  buf_[len_] = '\0';
  redraw_tail(old_len);
}

// Replaces the whole line (history recall), cursor at the end.
void LineEditor::set_line(const char* s) {
  usize old_len = len_;
  move_to(0);
  usize n = lib::strnlen(s, kMaxLine);
  memcpy(buf_, s, n);
  len_ = n;
  buf_[len_] = '\0';
  out_.write(buf_, len_);
  if (old_len > len_) out_.write("\x1b[K", 3);
  cur_ = len_;
}

// Rewrites buf_[cur_, len_) from the cursor, erases what an old, longer line left
// behind, and puts the terminal cursor back at cur_.
void LineEditor::redraw_tail(usize old_len) {
  out_.write(buf_ + cur_, len_ - cur_);
  if (old_len > len_) out_.write("\x1b[K", 3);
  move_left(len_ - cur_);
}

void LineEditor::redraw_all() {
  out_.write(prompt_, lib::strlen(prompt_));
  out_.write(buf_, len_);
  move_left(len_ - cur_);
}

void LineEditor::move_to(usize pos) {
  if (pos < cur_)
    move_left(cur_ - pos);
  else
    move_right(pos - cur_);
  cur_ = pos;
}

void LineEditor::move_left(usize n) {
  if (n == 0) return;
  if (n == 1)
    out_.write("\b", 1);
  else
    lib::format(out_, "\x1b[%zuD", n);
}

void LineEditor::move_right(usize n) {
  if (n > 0) lib::format(out_, "\x1b[%zuC", n);
}

void LineEditor::bell() { out_.write("\a", 1); }

void LineEditor::word_left() {
  usize i = cur_;
  while (i > 0 && buf_[i - 1] == ' ') --i;
  while (i > 0 && buf_[i - 1] != ' ') --i;
  move_to(i);
}

void LineEditor::word_right() {
  usize i = cur_;
  while (i < len_ && buf_[i] == ' ') ++i;
  while (i < len_ && buf_[i] != ' ') ++i;
  move_to(i);
}

void LineEditor::history_up() {
  if (hist_pos_ >= hist_count_) return;
  if (hist_pos_ == 0) memcpy(saved_, buf_, len_ + 1);
  ++hist_pos_;
  // A copy: editing the recalled line must not change the history.
  set_line(history_at(hist_pos_ - 1));
}

void LineEditor::history_down() {
  if (hist_pos_ == 0) return;
  --hist_pos_;
  set_line(hist_pos_ == 0 ? saved_ : history_at(hist_pos_ - 1));
}

void LineEditor::add_history() {
  bool blank = true;
  for (usize i = 0; i < len_; ++i)
    if (buf_[i] != ' ') blank = false;
  if (blank) return;
  if (hist_count_ > 0 && lib::streq(history_at(0), buf_)) return;
  memcpy(hist_[hist_next_], buf_, len_ + 1);
  hist_next_ = (hist_next_ + 1) % kHistory;
  if (hist_count_ < kHistory) ++hist_count_;
}

void LineEditor::complete() {
  if (completer_ == nullptr) {
    bell();
    return;
  }
  usize ws = cur_;
  while (ws > 0 && buf_[ws - 1] != ' ') --ws;
  usize wlen = cur_ - ws;

  const char* cand[kMaxCandidates] = {};  // null: slots a buggy completer left unset
  usize n = completer_->complete(buf_, ws, cur_, cand, kMaxCandidates);
  if (n > kMaxCandidates) n = kMaxCandidates;
  usize m = 0;
  for (usize i = 0; i < n; ++i) {
    const char* c = cand[i];
    if (c != nullptr && lib::strncmp(c, buf_ + ws, wlen) == 0 && is_word(c)) cand[m++] = c;
  }
  if (m == 0) {
    bell();
    return;
  }

  usize common = lib::strlen(cand[0]);
  bool all_same = true;
  for (usize i = 1; i < m; ++i) {
    usize j = 0;
    while (j < common && cand[i][j] == cand[0][j]) ++j;
    common = j;
    if (!lib::streq(cand[i], cand[0])) all_same = false;
  }

  if (all_same) {
    if (!insert(cand[0] + wlen, common - wlen)) return;
    // Step over a space that is already there instead of doubling it.
    if (cur_ < len_ && buf_[cur_] == ' ')
      move_to(cur_ + 1);
    else
      insert(" ", 1);
    return;
  }
  if (common > wlen) {
    insert(cand[0] + wlen, common - wlen);
    return;
  }
  out_.write("\r\n", 2);
  for (usize i = 0; i < m; ++i) {
    if (i > 0) out_.write("  ", 2);
    out_.write(cand[i], lib::strlen(cand[i]));
  }
  out_.write("\r\n", 2);
  redraw_all();
}

}  // namespace monitor
