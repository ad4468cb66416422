#pragma once
// Subject and body templates: `{field}` is replaced by the notification's field
// (TemplateFields(): the same list config::AlertTemplateFields() checks against), `{{` and `}}`
// are literal braces. And the generic JSON every JSON sink starts from.
#include <string>
#include <string_view>
#include <vector>

#include "iotad/alert/types.h"

namespace iotad::alert {

const std::vector<std::string>& TemplateFields();
/// Renders a template already checked by config::CheckAlertTemplate (unknown fields render as "").
std::string RenderTemplate(std::string_view tmpl, const Notification& n);
/// The value of one field as text (numbers with up to 6 significant digits, times ISO-8601 UTC).
std::string FieldValue(std::string_view field, const Notification& n);

/// Default templates (used when a sink leaves subject/body empty).
std::string_view DefaultSubject();  // "[{severity}] {status}: {device} {metric} ({rule})"
std::string_view DefaultBody();

/// The generic JSON of a notification (the webhook's payload, the file sink's line, exec's stdin):
/// version, kind, status, alert_id, dedup_key, rule, severity, group_key, labels, starts_at,
/// ends_at, anomalies, max_score, url, and the latest anomaly with its explanation.
std::string NotificationJson(const Notification& n);

}  // namespace iotad::alert
