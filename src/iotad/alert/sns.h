#pragma once
// The sns sink's pieces (sns.cpp), exposed for tests: the Publish form, AWS credentials, the
// answer's mapping. MakeSnsSink (sink.h) puts them together.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "iotad/alert/http.h"
#include "iotad/alert/types.h"
#include "iotad/core/result.h"

namespace iotad::alert {

/// application/x-www-form-urlencoded value encoding as botocore writes it (Python's
/// urlencode/quote_plus): A-Za-z0-9 - . _ ~ kept, space as '+', every other byte %XX upper-case
/// (':' is %3A, '/' is %2F, '+' is %2B). An SNS-compatible server that checks SigV4 by re-encoding
/// the parsed form (moto) computes the same body, so the signature matches.
std::string FormEncode(std::string_view value);

/// The Publish action's parameters.
struct SnsPublish {
  std::string topic_arn, subject, message;
  std::vector<std::pair<std::string, std::string>> attributes;  // String message attributes, in order
  std::string message_group_id, message_deduplication_id;       // FIFO topics only (else empty)
};
/// The form body: Action=Publish&Version=2010-03-31&TopicArn=..&Subject=..&Message=..
/// &MessageAttributes.entry.N.Name/.Value.DataType/.Value.StringValue..&MessageGroupId=..
/// &MessageDeduplicationId=.. (empty parameters left out).
std::string SnsPublishBody(const SnsPublish& p);

/// A Subject SNS accepts: printable ASCII only (others, and line breaks, become a space; a
/// multi-byte UTF-8 character becomes one '?'), spaces collapsed, trimmed, at most 100 characters;
/// "iotad alert" when nothing is left.
std::string SnsSubject(std::string_view text);
/// A MessageGroupId / MessageDeduplicationId: characters outside '!'..'~' become '_', at most
/// 128 characters, `fallback` when empty.
std::string SnsFifoId(std::string_view text, std::string_view fallback);
/// The FIFO MessageDeduplicationId of a notification: the same delivery gives the same id (a
/// re-send after a crash is dropped by SNS within its 5-minute window), another kind or delivery
/// of the alert a different one. "<alert id>-<kind>-<32 hex digits of dedup key, kind and
/// delivery id>".
std::string SnsDeduplicationId(const Notification& n);

/// The topic ARN's parts (arn:<partition>:sns:<region>:<account>:<name>); empty when not an ARN.
struct TopicArnParts {
  std::string partition, region, account, name;
};
TopicArnParts SplitTopicArn(std::string_view arn);

struct AwsCredentials {
  std::string access_key_id, secret_access_key, session_token;
  std::string source;  // "environment" or "<file> [profile]": where they came from (no secret)
};
/// Parses a shared credentials file's text; the profile's keys, nullopt when the profile or one
/// of its two keys is missing.
std::optional<AwsCredentials> ParseSharedCredentials(std::string_view text, std::string_view profile);
/// The usual AWS order: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN) from the
/// environment; else the shared credentials file (`credentials_file`, relative to `lake_root`;
/// else AWS_SHARED_CREDENTIALS_FILE; else ~/.aws/credentials), section `profile` (else
/// AWS_PROFILE, else "default"). Fails with one sentence naming what was tried.
Result<AwsCredentials> LoadAwsCredentials(const std::string& profile, const std::string& credentials_file,
                                          const std::filesystem::path& lake_root);

/// An SNS answer as an attempt: 2xx with a <MessageId> delivered (response "<MessageId>..</MessageId>");
/// an error document "sns: <Code>: <Message>" (auth and permission codes refused, throttling and
/// server errors retried, others by HTTP status); no answer retried.
AttemptResult SnsAttempt(const HttpResponse& r);

}  // namespace iotad::alert
