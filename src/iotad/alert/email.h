#pragma once
// The email sink's message (email.cpp), exposed for tests. MakeEmailSink (sink.h) sends it over
// SMTP through libcurl.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "iotad/alert/types.h"
#include "iotad/core/timestamp.h"

namespace iotad::alert {

struct MailMessage {
  std::string from;
  std::vector<std::string> to;
  std::string subject;  // any text: line breaks and control characters become spaces
  std::string body;     // UTF-8 text, any line endings
  TimestampUs date_us = 0;
  std::string message_id;  // without the angle brackets
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers (values encoded like Subject)
};

/// An RFC 5322 message with CRLF line endings: Date, From, To, Subject (an RFC 2047 encoded-word
/// when not plain ASCII; long headers folded at 78), Message-ID, MIME-Version, Content-Type
/// text/plain; charset=utf-8, Content-Transfer-Encoding 7bit (ASCII, lines of at most 998 bytes)
/// or quoted-printable (otherwise; lines of at most 76), Auto-Submitted, the extra headers, then
/// the body ending in CRLF. Lines starting with '.' are left as they are: libcurl dot-stuffs them
/// on the wire (and ends the data with CRLF.CRLF).
std::string BuildMailMessage(const MailMessage& m);

/// A header value: printable ASCII as is (folded at spaces past 78 columns), else RFC 2047
/// "=?UTF-8?B?...?=" words of at most 75 characters, never splitting a UTF-8 character.
/// `name_length` is the length of "Name: " before it on the first line.
std::string EncodeHeaderValue(std::string_view value, size_t name_length);

/// Quoted-printable (RFC 2045 6.7) of one CRLF-free line, soft-broken at 76 characters.
std::string QuotedPrintableLine(std::string_view line);

/// The Message-ID of a notification: "iotad.<delivery id>@<from's domain>" (characters an
/// addr-spec cannot hold become '_'); the same delivery always gets the same id, so a re-sent
/// mail is recognisable as the same one.
std::string MailMessageId(const Notification& n, std::string_view from);

/// "Sat, 02 Mar 2024 10:30:00 +0000".
std::string MailDate(TimestampUs t);

}  // namespace iotad::alert
