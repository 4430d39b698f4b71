package explain

import (
	"regexp"
	"slices"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/service/auth"
	"github.com/leadgate/scrm-gateway/service/lead"
)

// fixed is a form for a reason without parameters: its English text is its
// pattern.
func fixed(code, en, zh string) messageForm {
	return form(code, regexp.QuoteMeta(en), en, zh)
}

// reasonForms are the less common reasons of a 400, 403, 404, 409, 413, 429
// or 502: bad query parameters, uploads, lead and CRM answers, imports,
// webhooks, tokens. TestEveryAPIReasonHasACodeAndChinese scans the source
// for every reason written and fails on one that none of the forms takes.
var reasonForms = []messageForm{
	// Ids and query parameters.
	form("invalid.id_of", `must be (?:a|an) (?P<what>token|job|event|delivery|audit entry|channel code|contact|lead|endpoint|positive integer) id`,
		"must be a {what} id", "须为{what|idof}编号"),
	fixed("invalid.id", "must be an id", "须为编号"),
	fixed("invalid.integer", "must be an integer", "须为整数"),
	fixed("invalid.limit", "must be an integer from 1 to 500", "须为 1 到 500 之间的整数"),
	form("invalid.rfc3339", `must be an RFC 3339 time, such as (?P<example>\S+)`, "must be an RFC 3339 time, such as {example}", "须为 RFC 3339 格式的时间，例如 {example}"),
	fixed("invalid.date", "must be a date YYYY-MM-DD", "须为 YYYY-MM-DD 格式的日期"),
	fixed("invalid.date_or_time", "must be a date (YYYY-MM-DD) or RFC 3339 time", "须为日期（YYYY-MM-DD）或 RFC 3339 格式的时间"),
	fixed("invalid.not_after_to", "must not be after to", "不能晚于结束日期 to"),
	fixed("invalid.before_to", "must be before to", "须早于结束时间 to"),
	fixed("invalid.after_from", "must be after from", "须晚于开始时间 from"),
	fixed("invalid.audit_subject", "must be contact:<id> or lead:<id>", "须为 contact:<编号> 或 lead:<编号>"),
	fixed("invalid.next_cursor_page", "must be the next_cursor of the previous page", "须为上一页返回的 next_cursor"),
	fixed("invalid.next_cursor_feed", "must be the next_cursor of the feed", "须为变更流返回的 next_cursor"),
	fixed("invalid.unknown_stage", "unknown stage", "未知的阶段"),
	fixed("invalid.qr_kind", "must be landing or join_way", "须为 landing（落地页）或 join_way（加入群聊方式）"),
	fixed("invalid.one_subject", "give at most one of lead, contact and subject", "lead、contact、subject 最多只能给出一个"),
	fixed("invalid.degrees_number", "must be a number in degrees", "须为以度为单位的数"),
	form("invalid.degrees_range", `must be from (?P<a>-?[\d.]+) to (?P<b>-?[\d.]+) degrees`, "must be from {a} to {b} degrees", "须在 {a} 到 {b} 度之间"),
	fixed("invalid.coord", "must be gcj02 (WeChat's positions, the default) or wgs84 (a browser's GPS)", "须为 gcj02（微信的坐标，默认）或 wgs84（浏览器的 GPS 坐标）"),
	fixed("invalid.off_globe", "position is off the globe", "位置不在地球上"),
	fixed("invalid.several_corps", "several corps are configured; say which with ?corp=", "配置了多个企业：请用 ?corp= 指明是哪一个"),
	fixed("invalid.no_corp", "no such corp", "没有这个企业"),
	// Uploads and bodies.
	fixed("invalid.upload_image", "send the image as multipart form field 'file' (at most 2 MB)", "请以 multipart 表单字段 file 上传图片（最大 2 MB）"),
	fixed("invalid.upload_csv", "send the CSV as multipart form field 'file' (at most 8 MB)", "请以 multipart 表单字段 file 上传 CSV（最大 8 MB）"),
	fixed("invalid.upload_unreadable", "unreadable upload", "上传的文件无法读取"),
	fixed("invalid.body_unreadable", "the body could not be read", "无法读取请求体"),
	fixed("invalid.empty", "is empty", "为空"),
	fixed("invalid.image_type", "must be a PNG or JPEG image", "须为 PNG 或 JPEG 图片"),
	fixed("error.csv_too_large", "the CSV may be at most 8 MB", "CSV 最大 8 MB"),
	form("invalid.csv_header", `must be CSV with a header row: (?P<error>.*)`, "must be CSV with a header row: {error}", "须为带表头行的 CSV 文件"),
	form("invalid.csv_column", `the header has no "(?P<column>.*)" column \(columns: (?P<columns>.*)\)`,
		`the header has no "{column}" column (columns: {columns})`, "表头缺少“{column}”列（可用的列：{columns}）"),
	form("invalid.csv_unreadable", `unreadable CSV: (?P<error>.*)`, "unreadable CSV: {error}", "CSV 无法解析（引号或列数有误）"),
	form("invalid.csv_rows", `at most (?P<n>\d+) rows per import`, "at most {n} rows per import", "每次最多导入 {n} 行"),
	fixed("invalid.gcj02", "must be a number (GCJ-02 degrees)", "须为数字（GCJ-02 坐标，单位：度）"),
	// Routes, roles and tokens.
	fixed("error.no_console_file", "no such console file", "控制台没有这个文件"),
	fixed("error.no_route", "no such route", "没有这个接口"),
	fixed("error.method", "method not allowed", "不支持此请求方法"),
	fixed("error.internal", "internal error", "内部错误"),
	fixed("error.own_customers", "this token may see only its own staff member's customers", "此令牌只能查看其所属成员的客户"),
	fixed("error.throttled", "too many invalid tokens from this address; try again later", "此地址的无效令牌过多，请稍后再试"),
	fixed("error.no_token", "missing bearer token", "缺少 Bearer 令牌"),
	fixed("error.bad_token", auth.ErrUnauthenticated.Error(), "API 令牌无效或缺失"),
	fixed("error.not_linked", lead.ErrNotLinked.Error(), "此员工令牌没有关联企业微信成员的 userid（用 gateway token create --userid 创建）"),
	fixed("invalid.staff_token_userid", "a staff token acts for a WeCom staff member: give their userid", "员工令牌代表一位企业微信成员：请给出其 userid"),
	fixed("invalid.userid_staff_only", "only a staff token acts for a staff member", "只有员工令牌才能关联成员"),
	fixed("invalid.future", "must be in the future", "须为将来的时间"),
	// Codes, groups and stores.
	form("error.qr_image", `could not get the QR image: (?P<error>.*)`, "could not get the QR image: {error}", "无法获取二维码图片：{error|failure}"),
	fixed("invalid.fixed_mode", "cannot change after creation (the poster differs); create a new code", "创建后不能修改（海报不同）：请新建一个活码"),
	form("invalid.in_pool", `already in the pool of group code (?P<id>\d+)`, "already in the pool of group code {id}", "已在群活码 {id} 的群池中"),
	fixed("invalid.no_group_chat", "no such group chat in WeCom (or it was dismissed)", "企业微信中没有这个群（或已解散）"),
	fixed("invalid.no_listed_group", "no listed group exists", "列出的群都不存在"),
	fixed("conflict.pool_race", "a group was just added to another code's pool", "这个群刚被加入另一个活码的群池"),
	form("invalid.store_no_staff", `store (?P<id>\d+) has no staff`, "store {id} has no staff", "门店 {id} 没有员工"),
	fixed("error.no_store_code", "no such store code", "没有这个门店活码"),
	form("invalid.utm_key", `unknown key "(?P<key>.*)": only (?P<keys>.*)`, `unknown key "{key}": only {keys}`, "未知的键“{key}”：只能是 {keys}"),
	fixed("invalid.utf8", "must be valid UTF-8", "须为有效的 UTF-8 文本"),
	fixed("invalid.control", "must not contain control characters", "不能包含控制字符"),
	form("invalid.utm_size", `must be at most (?P<n>\d+) characters as JSON`, "must be at most {n} characters as JSON", "编码为 JSON 后最多 {n} 个字符"),
	form("invalid.tag_names", `give (?P<a>\d+) to (?P<b>\d+) tag names`, "give {a} to {b} tag names", "请给出 {a} 到 {b} 个标签名"),
	// Leads, scoring and the CRM.
	fixed("error.lead_merged", "the lead was merged into another (same person)", "该线索已合并到另一条线索（同一个人）"),
	fixed("error.feed_roles", "the change feed is for the crm, admin and viewer roles", "变更流仅供 crm、admin 和 viewer 角色使用"),
	fixed("error.crm_reads_feed", "the crm role reads leads through the change feed (updated_after) or one by id", "crm 角色通过变更流（updated_after）或按编号读取线索"),
	fixed("invalid.userid", "must be a WeCom userid", "须为企业微信成员的 userid"),
	fixed("invalid.bant_field", "is not a BANT field (budget, authority, need, timeline)", "不是 BANT 字段（budget 预算、authority 决策权、need 需求、timeline 时间）"),
	fixed("invalid.bant_value", "must be yes, no or unknown", "须为 yes（是）、no（否）或 unknown（未知）"),
	fixed("invalid.rule_points", "needs a tag name and points between -1000 and 1000", "需要标签名和 -1000 到 1000 之间的分数"),
	form("invalid.reason_length", `a reason of (?P<a>\d+) to (?P<b>\d+) characters is required`, "a reason of {a} to {b} characters is required", "须填写 {a} 到 {b} 个字符的原因"),
	form("invalid.stage_move", `a lead cannot move from (?P<from>\w+) to (?P<to>\w+)`, "a lead cannot move from {from} to {to}", "线索不能从“{from|stage}”转到“{to|stage}”"),
	fixed("invalid.crm_event_id", "the CRM's own event id (1 to 128 characters) is required", "必须给出 CRM 自己的事件编号（1 到 128 个字符）"),
	fixed("invalid.reject_reason", "a rejection needs a reason", "拒绝须给出原因"),
	fixed("invalid.crm_status", "must be accepted, rejected, won or lost", "须为 accepted（接受）、rejected（拒绝）、won（赢单）或 lost（丢单）"),
	form("conflict.crm_event", `this event id was already used for another answer \((?P<status>\w+) on lead (?P<lead>\d+)\): use a new event id for a new answer`,
		"this event id was already used for another answer ({status} on lead {lead}): use a new event id for a new answer",
		"该事件编号已用于另一个答复（线索 {lead}：{status|crm}）：新的答复请使用新的事件编号"),
	form("invalid.not_with_crm", `the lead is (?P<stage>\w+), not with the CRM`, "the lead is {stage}, not with the CRM", "线索处于“{stage|stage}”阶段，不在 CRM 处理中"),
	// Jobs and webhooks.
	form("invalid.job_not_finished", `job (?P<id>\d+) is (?P<status>\w+); only failed or ignored jobs can be retried`,
		"job {id} is {status}; only failed or ignored jobs can be retried", "任务 {id} 的状态为 {status|status}：只有失败或已忽略的任务可以重试"),
	fixed("invalid.retry_status", "must be failed or ignored: only finished jobs can be retried", "须为 failed（失败）或 ignored（已忽略）：只有已结束的任务可以重试"),
	fixed("invalid.queue_status", "must be one of pending, processing, processed, ignored, failed", "须为以下之一：pending（待处理）、processing（处理中）、processed（已处理）、ignored（已忽略）、failed（失败）"),
	form("invalid.event_type", `unknown event type "(?P<type>.*)"; known: (?P<known>.*)`, `unknown event type "{type}"; known: {known}`, "未知的事件类型“{type}”；可用：{known}"),
	fixed("invalid.event_type_bare", "unknown event type", "未知的事件类型"),
	form("invalid.at_most_bytes", `must be at most (?P<n>\d+) bytes`, "must be at most {n} bytes", "最多 {n} 字节"),
	fixed("invalid.version_fixed", "is fixed when the endpoint is made; make a new endpoint for another version", "创建端点时即已确定：要用其他版本请新建端点"),
	fixed("conflict.endpoint_disabled", model.ErrEndpointDisabled.Error(), "端点已停用：请先启用再重发"),
	fixed("conflict.delivery_in_flight", model.ErrDeliveryInFlight.Error(), "这次投递正在发送中"),
	fixed("invalid.replay_status", "only failed or delivered deliveries can be replayed", "只有失败或已送达的投递可以重发"),
	form("invalid.payload_version", `unknown payload version; known: (?P<known>.*)`, "unknown payload version; known: {known}", "未知的负载版本；可用：{known}"),
	fixed("invalid.absolute_https", "must be an absolute https URL", "须为完整的 https 网址"),
	fixed("invalid.https_only", "must use https (plain http is allowed only when webhooks.allow_http is set)", "须使用 https（仅在设置 webhooks.allow_http 时允许 http）"),
	form("invalid.https_scheme", `must use https, got "(?P<scheme>.*)"`, `must use https, got "{scheme}"`, "须使用 https，而不是“{scheme}”"),
	fixed("invalid.url_credentials", "must not carry credentials; the receiver verifies the signature instead", "网址中不能带用户名和密码：接收方应校验签名"),
	fixed("invalid.url_fragment", "must not have a #fragment", "网址中不能有 # 片段"),
	fixed("invalid.metadata_host", "names a cloud metadata service; never allowed", "指向云服务器元数据服务：一律不允许"),
	form("invalid.address_kind", `points to a (?P<kind>[a-z -]+) address \((?P<ip>[^)]*)\); (?P<why>.*)`,
		"points to a {kind} address ({ip}); {why}", "指向{kind|netkind}地址（{ip}）：{why|netwhy}"),
	form("invalid.host_unresolved", `host "(?P<host>.*)" does not resolve`, `host "{host}" does not resolve`, "无法解析主机“{host}”"),
	form("invalid.host_address_kind", `host "(?P<host>.*)" resolves to a (?P<kind>[a-z -]+) address \((?P<ip>[^)]*)\); (?P<why>.*)`,
		`host "{host}" resolves to a {kind} address ({ip}); {why}`, "主机“{host}”解析为{kind|netkind}地址（{ip}）：{why|netwhy}"),
	// Codes, rosters and rules: the validations' own reasons.
	fixed("invalid.mode", "must be random or precise", "须为 random（随机）或 precise（精准）"),
	fixed("invalid.strategy", "must be round_robin, least_loaded or weighted", "须为 round_robin（轮流）、least_loaded（最少接待）或 weighted（按权重）"),
	form("invalid.at_most_tags", `at most (?P<n>\d+) tags`, "at most {n} tags", "最多 {n} 个标签"),
	form("invalid.chars_range_wecom", `must be (?P<a>\d+) to (?P<b>\d+) characters \(WeCom's limit\)`, "must be {a} to {b} characters (WeCom's limit)", "须为 {a} 到 {b} 个字符（企业微信的限制）"),
	form("invalid.remark_length", `is (?P<n>\d+) characters without the customer's name; WeCom allows (?P<max>\d+)`,
		"is {n} characters without the customer's name; WeCom allows {max}", "不含客户名已有 {n} 个字符；企业微信最多允许 {max} 个"),
	// (the placeholders are captured so the texts can show them as they are)
	form("invalid.placeholder", `unknown placeholder (?P<p>.*) \(use (?P<name>\{name\}), (?P<code>\{code\}), (?P<date>\{date\})\)`,
		"unknown placeholder {p} (use {name}, {code}, {date})", "未知的占位符 {p}（可用 {name}、{code}、{date}）"),
	fixed("invalid.welcome_empty", "a welcome needs text or an attachment", "欢迎语需要文字或附件"),
	form("invalid.welcome_bytes", `is (?P<n>\d+) bytes with the name filled in; WeCom allows (?P<max>\d+)`,
		"is {n} bytes with the name filled in; WeCom allows {max}", "填入客户名后为 {n} 字节；企业微信最多允许 {max} 字节"),
	form("invalid.at_most_wecom", `at most (?P<n>\d+) \(WeCom's limit\)`, "at most {n} (WeCom's limit)", "最多 {n} 个（企业微信的限制）"),
	form("invalid.at_most", `at most (?P<n>\d+)`, "at most {n}", "最多 {n} 个"),
	fixed("invalid.http_url", "must be an http(s) URL", "须为 http(s) 网址"),
	fixed("invalid.attachment_type", "must be image, link or miniprogram", "须为 image（图片）、link（链接）或 miniprogram（小程序）"),
	fixed("invalid.weekday_range", "days are 0 (Sunday) to 6", "星期须为 0（周日）到 6"),
	fixed("invalid.start_end_pair", "give both start and end, or neither", "开始和结束时间须同时填写或同时留空"),
	fixed("invalid.no_media", "no such media asset", "没有这个素材（请先上传图片）"),
	form("invalid.threshold", `must be from 1 to (?P<max>\d+) \(WeCom's ceiling for joining by QR code\)`,
		"must be from 1 to {max} (WeCom's ceiling for joining by QR code)", "须为 1 到 {max}（企业微信扫码入群的上限）"),
	form("invalid.at_most_bytes_wecom", `must be at most (?P<n>\d+) bytes \(WeCom's limit\)`, "must be at most {n} bytes (WeCom's limit)", "最多 {n} 字节（企业微信的限制）"),
	form("invalid.at_most_chars_wecom", `must be at most (?P<n>\d+) characters \(WeCom's limit\)`, "must be at most {n} characters (WeCom's limit)", "最多 {n} 个字符（企业微信的限制）"),
	form("invalid.from_to_metres", `must be from (?P<a>\d+) to (?P<b>\d+) metres`, "must be from {a} to {b} metres", "须为 {a} 到 {b} 米"),
	form("invalid.from_to", `must be from (?P<a>-?\d+) to (?P<b>-?\d+)`, "must be from {a} to {b}", "须为 {a} 到 {b}"),
	form("invalid.chat_ids_count", `must list (?P<a>\d+) to (?P<b>\d+) group chat ids`, "must list {a} to {b} group chat ids", "须列出 {a} 到 {b} 个群聊 chat_id"),
	fixed("invalid.chat_id", "must be a group chat id", "须为群聊 chat_id"),
	fixed("invalid.listed_twice", "is listed twice", "重复列出"),
	fixed("invalid.store_daily_cap", "daily caps are not supported for store staff", "门店店员不支持每日上限"),
	fixed("invalid.offer", "must be staff or group", "须为 staff（店员）或 group（门店群）"),
	form("invalid.stores_count", `must list (?P<a>\d+) to (?P<b>\d+) stores`, "must list {a} to {b} stores", "须列出 {a} 到 {b} 家门店"),
	fixed("invalid.no_such_store", "no such store", "没有这家门店"),
	fixed("invalid.empty_window", "an empty window can never match", "时间段为空，规则永远不会匹配"),
	form("invalid.tag_both_conditions", `tag "(?P<tag>.*)" is required both present and absent: the rule can never match`,
		`tag "{tag}" is required both present and absent: the rule can never match`, "标签“{tag}”既要求有又要求没有：规则永远不会匹配"),
	fixed("invalid.gender", "must be 0 (unknown), 1 (male) or 2 (female)", "须为 0（未知）、1（男）或 2（女）"),
	fixed("invalid.score_range", "is above max_score: the rule can never match", "高于最高分 max_score：规则永远不会匹配"),
	fixed("invalid.to_stage_trigger", "needs trigger stage_changed and a known stage", "需要触发条件 stage_changed（阶段变更）和已知的阶段"),
	fixed("invalid.field_trigger", "needs trigger field_changed", "需要触发条件 field_changed（字段变更）"),
	fixed("invalid.chat_trigger", "needs trigger joined_group or left_group", "需要触发条件 joined_group（入群）或 left_group（退群）"),
	form("invalid.tag_added_removed", `tag "(?P<tag>.*)" is both added and removed`, `tag "{tag}" is both added and removed`, "标签“{tag}”既要添加又要移除"),
	fixed("invalid.known_time_zone", "must be a known IANA time zone such as Asia/Shanghai", "须为已知的 IANA 时区，例如 Asia/Shanghai"),
	fixed("invalid.one_member", "must list at least one member", "至少需要一位成员"),
	form("invalid.members_count", `must list at most (?P<n>\d+) members \(WeCom's limit per contact way\)`,
		"must list at most {n} members (WeCom's limit per contact way)", "最多 {n} 位成员（企业微信每个联系我方式的限制）"),
	fixed("invalid.not_empty", "must not be empty", "不能为空"),
	form("invalid.member_twice", `"(?P<userid>.*)" is already members\[(?P<i>\d+)\]`, `"{userid}" is already members[{i}]`, "“{userid}”已在成员列表中（members[{i}]）"),
	fixed("invalid.daily_cap", "must be 0 (no cap) or more", "须为 0（不限）或更大"),
	fixed("invalid.weight", "must be 0 (meaning 1) or more", "须为 0（即 1）或更大"),
	form("invalid.override_all", `overrides\[(?P<i>\d+)\] already applies to all members on (?P<date>.*)`,
		"overrides[{i}] already applies to all members on {date}", "日期调整 overrides[{i}] 已对 {date} 的所有成员生效"),
	form("invalid.not_roster_member", `"(?P<userid>.*)" is not a member of this roster`, `"{userid}" is not a member of this roster`, "“{userid}”不是本排班的成员"),
	form("invalid.userid_twice", `"(?P<userid>.*)" is listed twice`, `"{userid}" is listed twice`, "“{userid}”重复列出"),
	form("invalid.override_twice", `"(?P<userid>.*)" already has overrides\[(?P<i>\d+)\] on (?P<date>.*)`,
		`"{userid}" already has overrides[{i}] on {date}`, "“{userid}”在 {date} 已有日期调整 overrides[{i}]"),
	fixed("invalid.off_no_shifts", "must be empty when off is set", "休息日不能有班次"),
	fixed("invalid.shifts_needed", "must list at least one shift unless off is set", "不是休息日时至少需要一个班次"),
	fixed("invalid.start_hhmm", "must be a time HH:MM from 00:00 to 23:59", "须为 00:00 到 23:59 之间的时间 HH:MM"),
	fixed("invalid.end_hhmm", "must be a time HH:MM from 00:00 to 24:00", "须为 00:00 到 24:00 之间的时间 HH:MM"),
	fixed("invalid.one_weekday", "must list at least one weekday (0=Sunday … 6=Saturday)", "至少选择一个星期（0=周日 … 6=周六）"),
	fixed("invalid.weekday", "must be 0 (Sunday) to 6 (Saturday)", "须为 0（周日）到 6（周六）"),
}

// apiReasonForms are every reason form, the common ones first.
var apiReasonForms = slices.Concat(errorForms, reasonForms)

// failureForms explain the error texts stored on events, jobs and webhook
// deliveries and carried inside alerts and timeline entries: WeCom's
// errcodes, our call budget, a webhook endpoint's answer or the network's.
// The last form takes any other error: its Chinese text says an error
// happened and the English original stays in the message's parameters (and
// in the view's raw error field).
var failureForms = []messageForm{
	form("failure.config", `configuration: (?P<error>(?s:.*))`, "configuration: {error}", "企业配置有误，需要管理员处理：{error|failure}"),
	form("failure.wecom", `(?s:.*?)wecom (?P<api>\S+): (?P<reason>[^()]*) \(errcode (?P<errcode>-?\d+)\)(?P<rest>(?s:.*))`,
		"wecom {api}: {reason} (errcode {errcode}){rest}", "企业微信接口 {api} 出错（错误码 {errcode}）：{errcode|wecomerr}"),
	form("failure.wecom_held", `(?s:.*?)wecom (?P<api>\S+): held after WeCom's frequency limit, retry after (?P<after>\S+)`,
		"wecom {api}: held after WeCom's frequency limit, retry after {after}", "企业微信接口 {api} 触发频率限制，暂停调用，{after} 后重试"),
	form("failure.wecom_budget", `(?s:.*?)wecom (?P<api>\S+): call budget spent, retry after (?P<after>\S+)`,
		"wecom {api}: call budget spent, retry after {after}", "企业微信接口 {api} 的调用预算已用完，{after} 后重试"),
	form("failure.gave_up", `gave up after (?P<n>\d+) attempts: (?P<error>(?s:.*))`, "gave up after {n} attempts: {error}", "尝试 {n} 次后放弃：{error|failure}"),
	form("failure.endpoint_disabled", `endpoint disabled: (?P<reason>(?s:.*))`, "endpoint disabled: {reason}", "端点已停用：{reason|failure}"),
	fixed("failure.disabled_by_admin", "disabled by an admin", "管理员已停用"),
	fixed("failure.gone", "the endpoint answered 410 Gone", "端点答复 410 Gone（已不存在）"),
	form("failure.failing_since", `failing without a success since (?P<since>\S+) \((?P<after>\S+)\)`,
		"failing without a success since {since} ({after})", "自 {since} 起持续失败，超过 {after} 没有成功"),
	form("failure.http_redirect", `HTTP (?P<status>\d+): redirects are not followed`, "HTTP {status}: redirects are not followed", "对方返回 HTTP {status}：不跟随重定向"),
	form("failure.http", `HTTP (?P<status>\d+)`, "HTTP {status}", "对方返回 HTTP {status}，需要 2xx"),
	form("failure.refused_address", `(?s:.*)refused address: (?P<address>(?s:.*))`, "refused address: {address}", "目标地址被拒绝（内网或保留地址，见 Webhook 网络设置）：{address}"),
	form("failure.refused", `(?s:.*)connection refused(?s:.*)`, "connection refused", "无法连接：连接被拒绝"),
	form("failure.timeout", `(?s:.*)(?:deadline exceeded|Timeout exceeded|i/o timeout|timed out)(?s:.*)`, "timed out", "超时：对方未在时限内应答"),
	form("failure.no_host", `(?s:.*)no such host(?s:.*)`, "no such host", "域名无法解析"),
	form("failure.tls", `(?s:.*)(?:tls: |x509: |certificate)(?s:.*)`, "TLS handshake or certificate failed", "TLS 握手或证书出错"),
	form("failure.reset", `(?s:.*)(?:connection reset|broken pipe|EOF)(?s:.*)`, "the connection was cut", "连接被对方中断"),
	form("failure.other", `(?P<error>(?s:.+))`, "{error}", "处理出错（英文原文见详情）"),
}

// wecomErrors are WeCom's errcodes in Chinese, as its documentation words
// them; "*" is any other.
var wecomErrors = map[string]string{
	"-1": "系统繁忙", "40001": "凭证（Secret）无效", "40003": "成员 userid 无效", "40004": "媒体文件类型无效",
	"40005": "文件类型无效", "40006": "文件大小无效", "40007": "media_id 无效", "40009": "图片大小无效",
	"40013": "企业 CorpID 无效", "40014": "access_token 无效", "40058": "参数不合法", "40063": "参数为空",
	"40068": "标签 ID 无效", "40091": "Secret 无效", "40096": "external_userid 无效", "41004": "缺少 Secret",
	"41045": "联系我方式数量已达上限", "41049": "缺少欢迎语凭证", "41050": "欢迎语凭证无效或已过期",
	"41051": "欢迎语已发送过", "41096": "其他应用正在发送欢迎语", "42001": "access_token 已过期",
	"44004": "文本内容为空", "45009": "接口调用超过频率限制", "45033": "接口并发调用超过限制",
	"48002": "应用没有此接口的权限", "60011": "没有此成员或部门的权限", "60020": "服务器 IP 不在企业的可信 IP 中",
	"84061": "不存在外部联系人关系", "*": "未知错误",
}

// Failure is an error text as a message (nil when there is none).
func Failure(text string) *Message {
	if text == "" {
		return nil
	}
	m := explain(failureForms, text)
	return &m
}
