package explain

import (
	"reflect"
	"regexp"
	"strings"

	"github.com/leadgate/scrm-gateway/service/lead"
	"github.com/leadgate/scrm-gateway/service/queue"
	"github.com/leadgate/scrm-gateway/service/webhook"
)

// Message is a reason, alert, loss or timeline entry as the API shows it: a
// stable code with its parameters, and the text in the language the request
// asked for (see Localize). Clients that act on it read the code; people
// read the text.
type Message struct {
	Code   string            `json:"code"`
	Params map[string]string `json:"params,omitempty"`
	Text   string            `json:"text"`
}

// Languages the messages are written in.
const (
	LangZH = "zh-CN"
	LangEN = "en"
)

// Lang picks the language of an Accept-Language header: English when the
// first language it names that we have is English, else Chinese (the
// console's and the product's language).
func Lang(acceptLanguage string) string {
	for _, part := range strings.Split(acceptLanguage, ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		tag = strings.ToLower(strings.TrimSpace(tag))
		switch {
		case tag == "en" || strings.HasPrefix(tag, "en-"):
			return LangEN
		case tag == "zh" || strings.HasPrefix(tag, "zh-"):
			return LangZH
		}
	}
	return LangZH
}

// messageForm is one kind of message: its code, the English text the
// business writes (a pattern whose named groups are the parameters), and
// the text in each language. {name} in a text is a parameter; {name|list}
// is the parameter translated by the named list of terms.
type messageForm struct {
	code    string
	pattern *regexp.Regexp
	texts   map[string]string
}

func form(code, pattern, en, zh string) messageForm {
	return messageForm{code: code, pattern: regexp.MustCompile(`^` + pattern + `$`), texts: map[string]string{LangEN: en, LangZH: zh}}
}

// terms translate parameter values that are themselves words of ours.
var terms = map[string]map[string]string{
	"bant":  {"budget": "预算", "authority": "决策权", "need": "需求", "timeline": "时间"},
	"stage": {lead.StageRaw: "新线索", lead.StageMQL: "MQL", lead.StageSQL: "SQL", lead.StageHandedOff: "已移交", lead.StageAccepted: "已接受", lead.StageRejected: "已拒绝", lead.StageNurturing: "培育中", lead.StageWon: "赢单", lead.StageLost: "已流失"},
	"crm":   {"accepted": "接受", "rejected": "拒绝", "won": "赢单", "lost": "丢单"},
	"idof": {"token": "令牌", "job": "任务", "event": "事件", "delivery": "投递", "audit entry": "审计记录", "channel code": "渠道活码",
		"contact": "客户", "lead": "线索", "endpoint": "端点", "positive integer": "正整数"},
	"wecomerr": wecomErrors,
	// an address's kind and why it is refused (see webhook.CheckURL)
	"netkind": {"loopback": "本机回环", "private": "内网", "link-local": "链路本地", "multicast": "组播", "shared address space": "运营商共享",
		"reserved": "保留", "broadcast": "广播", "unspecified": "未指定", "invalid": "无效", "cloud metadata": "云元数据"},
	"netwhy": {"never allowed": "一律不允许",
		"allowed only for a host named in webhooks.allowed_hosts, or with webhooks.allow_private_networks": "仅允许 webhooks.allowed_hosts 中列出的主机，或设置 webhooks.allow_private_networks 后允许"},
	"status": {queue.StatusPending: "待处理", queue.StatusProcessing: "处理中", queue.StatusProcessed: "已处理", queue.StatusIgnored: "已忽略", queue.StatusFailed: "失败"},
}

// The messages of each family, most specific first; the last form of each
// family takes any text as it is.
var (
	scoreForms = []messageForm{
		form("score.bant", `BANT (?P<field>\w+): yes`, "BANT {field}: yes", "BANT {field|bant}为“是”"),
		form("score.added_via_code", `added via a live code`, "added via a live code", "通过活码添加"),
		form("score.joined_group", `joined a customer group`, "joined a customer group", "加入客户群"),
		form("score.tag", `tag (?P<tag>.+)`, "tag {tag}", "标签 {tag}"),
		form("score.rule", `rule (?P<rule>.+)`, "rule {rule}", "规则 {rule}"),
		form("score.recency", `recency: last activity (?P<days>\d+) days ago`, "recency: last activity {days} days ago", "最近活动：{days} 天前"),
	}
	stageForms = []messageForm{
		form("stage.created", `created from a new contact`, "created from a new contact", "新客户，创建线索"),
		form("stage.customer_left", `the customer left every staff member`, "the customer left every staff member", "客户删除了所有成员"),
		form("stage.score_sql", `score (?P<score>-?\d+) reached the SQL threshold (?P<threshold>-?\d+)`,
			"score {score} reached the SQL threshold {threshold}", "分数 {score} 达到 SQL 阈值 {threshold}"),
		form("stage.score_mql", `score (?P<score>-?\d+) reached the MQL threshold (?P<threshold>-?\d+)`,
			"score {score} reached the MQL threshold {threshold}", "分数 {score} 达到 MQL 阈值 {threshold}"),
		form("stage.bant_sql", `(?P<yes>\d) of 4 BANT fields are yes`, "{yes} of 4 BANT fields are yes", "BANT 四项中 {yes} 项为“是”"),
		form("stage.handed_off", `pushed to the CRM`, "pushed to the CRM", "已推送到 CRM"),
		form("stage.crm_reason", `CRM: (?P<status>\w+) \((?P<reason>.*)\)`, "CRM: {status} ({reason})", "CRM：{status|crm}（{reason}）"),
		form("stage.crm", `CRM: (?P<status>\w+)`, "CRM: {status}", "CRM：{status|crm}"),
	}
	timelineForms = []messageForm{
		form("welcome.sent", `welcome sent`, "welcome sent", "已发送欢迎语"),
		form("welcome.already_delivered", `welcome already delivered`, "welcome already delivered", "欢迎语此前已送达"),
		form("welcome.expired", `welcome not sent: the 20 s window had passed when the event was handled`,
			"welcome not sent: the 20 s window had passed when the event was handled", "未发送欢迎语：处理时已过 20 秒窗口"),
		form("welcome.unknown", `welcome outcome unknown: WeCom did not answer before the 20 s window closed \(it may have been delivered\)`,
			"welcome outcome unknown: WeCom did not answer before the 20 s window closed (it may have been delivered)",
			"欢迎语结果未知：企业微信在 20 秒窗口内未应答（可能已送达）"),
		form("welcome.code_expired", `welcome not sent: WeCom says the welcome code has expired \(41050\)`,
			"welcome not sent: WeCom says the welcome code has expired (41050)", "未发送欢迎语：企业微信答复欢迎语凭证已过期（41050）"),
		form("welcome.unknown_rerun", `welcome outcome unknown: an earlier attempt at this event, made within the 20 s window, may have sent it`,
			"welcome outcome unknown: an earlier attempt at this event, made within the 20 s window, may have sent it",
			"欢迎语结果未知：此前在 20 秒窗口内对该事件的一次尝试可能已发送"),
		form("welcome.failed", `welcome failed: (?P<error>.*)`, "welcome failed: {error}", "欢迎语发送失败：{error|failure}"),
		form("welcome.none", `no welcome configured`, "no welcome configured", "未设置欢迎语"),
		form("welcome.not_our_code", `no welcome: the state is not one of our channel codes`,
			"no welcome: the state is not one of our channel codes", "未发送欢迎语：不是本系统的活码"),
		form("welcome.no_code", `no welcome code \(a console welcome applies, or they chatted before\)`,
			"no welcome code (a console welcome applies, or they chatted before)", "没有欢迎语凭证（企业微信后台的欢迎语生效，或客户此前聊过天）"),
		form("group.named", `group (?P<name>.*) \((?P<chat_id>[^()]+)\)`, "group {name} ({chat_id})", "群 {name}（{chat_id}）"),
		form("group.id", `group (?P<chat_id>\S+)`, "group {chat_id}", "群 {chat_id}"),
	}
	lossForms = []messageForm{
		form("loss.customer_deleted", `customer_deleted`, "the customer deleted the staff member", "客户删除了成员"),
		form("loss.staff_deleted", `staff_deleted`, "the staff member deleted the customer", "成员删除了客户"),
		form("loss.transferred", `transferred`, "transferred to another staff member", "已转接给其他成员"),
	}
	alertForms = []messageForm{
		form("alert.nobody_eligible", `no staff member or backup is eligible now; the contact way keeps its last list`,
			"no staff member or backup is eligible now; the contact way keeps its last list", "当前没有在岗成员或备用成员，联系我方式保留上次的名单"),
		form("alert.using_backups", `no rostered staff member is eligible now; backups are receiving customers`,
			"no rostered staff member is eligible now; backups are receiving customers", "当前没有排班成员在岗，由备用成员接待"),
		form("alert.sync_failed", `WeCom sync failed: (?P<error>.*); retrying until a sync succeeds`,
			"WeCom sync failed: {error}; retrying until a sync succeeds", "企业微信同步失败：{error|failure}；将持续重试，直到同步成功"),
		form("alert.pool_dismissed", `every group in the pool is dismissed; the join way lists nothing that exists: add groups`,
			"every group in the pool is dismissed; the join way lists nothing that exists: add groups", "群池中的群都已解散，加入群聊方式没有可用的群：请添加群"),
		form("alert.pool_full", `every group in the pool has (?P<threshold>\d+) customers or more; the code keeps serving (?P<chats>.*): add groups or raise the threshold`,
			"every group in the pool has {threshold} customers or more; the code keeps serving {chats}: add groups or raise the threshold",
			"群池中每个群都已有 {threshold} 位及以上客户，活码继续使用 {chats}：请添加群或提高阈值"),
	}
	// errorForms are the common reasons of a 400, for a request that asks
	// for Chinese (see LocalizeReason).
	errorForms = []messageForm{
		form("invalid.required", `is required`, "is required", "必填"),
		form("invalid.required_why", `is required(?P<why>[ :(].*)`, "is required{why}", "必填{why}"),
		form("invalid.at_most_chars", `must be at most (?P<n>\d+) characters`, "must be at most {n} characters", "最多 {n} 个字符"),
		form("invalid.chars_range", `must be (?P<a>\d+) to (?P<b>\d+) characters`, "must be {a} to {b} characters", "须为 {a} 到 {b} 个字符"),
		form("invalid.between", `must be between (?P<a>-?\d+) and (?P<b>-?\d+)`, "must be between {a} and {b}", "须在 {a} 到 {b} 之间"),
		form("invalid.degrees", `must be a number from (?P<a>-?\d+) to (?P<b>-?\d+) \(GCJ-02 degrees\)`,
			"must be a number from {a} to {b} (GCJ-02 degrees)", "须为 {a} 到 {b} 之间的数（GCJ-02 坐标，单位：度）"),
		form("invalid.tag_in_use", `tag "(?P<tag>.*)" is named by tag rules \((?P<rules>.*)\): change them first`,
			`tag "{tag}" is named by tag rules ({rules}): change them first`, "标签“{tag}”被标签规则（{rules}）使用：请先修改这些规则"),
		form("invalid.one_of", `must be one of (?P<list>.+)`, "must be one of {list}", "须为以下之一：{list}"),
		form("invalid.hhmm", `must be HH:MM`, "must be HH:MM", "须为 HH:MM 格式的时间"),
		form("invalid.positive", `must be positive`, "must be positive", "须为正数"),
		form("invalid.above_mql", `must be above mql_threshold`, "must be above mql_threshold", "须大于 MQL 阈值 mql_threshold"),
		form("invalid.half_life", `must be more than 0 and at most 365`, "must be more than 0 and at most 365", "须大于 0 且不超过 365"),
		form("invalid.time_zone", `must be an IANA time zone such as Asia/Shanghai`, "must be an IANA time zone such as Asia/Shanghai", "须为 IANA 时区，例如 Asia/Shanghai"),
		form("invalid.string", `must be a string`, "must be a string", "须为文本"),
		form("invalid.whole", `must be a whole number`, "must be a whole number", "须为整数"),
		form("invalid.whole_range", `must be a whole number within range`, "must be a whole number within range", "须为范围内的整数"),
		form("invalid.whole_nonneg", `must be a whole number, 0 or more`, "must be a whole number, 0 or more", "须为 0 或更大的整数"),
		form("invalid.number", `must be a number`, "must be a number", "须为数字"),
		form("invalid.bool", `must be true or false`, "must be true or false", "须为 true 或 false"),
		form("invalid.list", `must be a list`, "must be a list", "须为列表"),
		form("invalid.object", `must be an object`, "must be an object", "须为对象"),
		form("invalid.unknown_field", `is not a field of this object \(check its spelling in docs/API.md\)`,
			"is not a field of this object (check its spelling in docs/API.md)", "不是此对象的字段（请检查拼写，见 docs/API.md）"),
		form("invalid.control_name", `may not hold control characters \(NUL, tabs, line breaks, ...\)`,
			"may not hold control characters (NUL, tabs, line breaks, ...)", "不能包含控制字符（NUL、制表符、换行等）"),
		form("invalid.control_text", `may not hold NUL or control characters other than tabs and line breaks`,
			"may not hold NUL or control characters other than tabs and line breaks", "不能包含 NUL 或制表符、换行以外的控制字符"),
		form("invalid.control_key", `a name may not hold control characters`, "a name may not hold control characters", "名称不能包含控制字符"),
		form("invalid.put_whole", `is required: this replaces the whole resource \(PATCH changes only what it names\)`,
			"is required: this replaces the whole resource (PATCH changes only what it names)", "必填：PUT 替换整个配置（PATCH 只修改给出的字段）"),
		form("invalid.unknown_tag", `unknown tag "(?P<tag>.*)" \(not in the corp's tag catalogue\)`,
			`unknown tag "{tag}" (not in the corp's tag catalogue)`, "未知标签“{tag}”（不在企业标签库中）"),
		form("invalid.not_staff", `"(?P<userid>.*)" is not a staff member of this corp in WeCom \(see GET /api/v1/staff\)`,
			`"{userid}" is not a staff member of this corp in WeCom (see GET /api/v1/staff)`, "“{userid}”不是本企业的企业微信成员（见员工目录）"),
		form("invalid.no_channel_code", `no channel code (?P<id>\d+)`, "no channel code {id}", "没有渠道活码 {id}"),
		form("invalid.no_store", `no store (?P<id>\d+)`, "no store {id}", "没有门店 {id}"),
		form("invalid.no_action", `a rule needs at least one action`, "a rule needs at least one action", "规则至少需要一个动作"),
		form("invalid.not_json", `the body is not valid JSON (?P<where>.*)`, "the body is not valid JSON {where}", "请求体不是有效的 JSON"),
		form("invalid.not_object", `the body must be (?:a|one) JSON object.*`, "the body must be a JSON object", "请求体须为一个 JSON 对象"),
		form("error.not_found", `not found`, "not found", "未找到"),
		form("error.conflict", `already exists`, "already exists", "已存在"),
		form("error.forbidden", `this token's role may not do this`, "this token's role may not do this", "此令牌的角色无权执行此操作"),
		form("error.too_large", `the body may be at most (?P<size>.+)`, "the body may be at most {size}", "请求体最大 {size}"),
		form("error.image_too_large", `images may be at most 2 MB \(WeCom's limit\)`, "images may be at most 2 MB (WeCom's limit)", "图片最大 2 MB（企业微信的限制）"),
	}
	asIs = form("text", `(?P<text>(?s:.*))`, "{text}", "{text}")
)

// explain finds the form of text among forms (or takes it as it is).
func explain(forms []messageForm, text string) Message {
	if text == "" {
		return Message{}
	}
	for _, f := range append(forms, asIs) {
		m := f.pattern.FindStringSubmatch(text)
		if m == nil {
			continue
		}
		msg := Message{Code: f.code}
		for i, name := range f.pattern.SubexpNames() {
			if name != "" {
				if msg.Params == nil {
					msg.Params = map[string]string{}
				}
				msg.Params[name] = m[i]
			}
		}
		return msg
	}
	return Message{}
}

// ScoreLine is a score line's reason as a message.
func ScoreLine(reason string) Message { return explain(scoreForms, reason) }

// Transition is a stage change's reason as a message; an admin's or
// the CRM's own words are kept as they are (code "text").
func Transition(actor, reason string) Message {
	if actor == "admin" {
		return explain(nil, reason)
	}
	return explain(stageForms, reason)
}

// Timeline is a timeline entry's detail as a message: a welcome's
// outcome, a loss's reason, or the group joined or left.
func Timeline(detail string) Message {
	if m := explain(lossForms, detail); m.Code != asIs.code {
		return m
	}
	return explain(timelineForms, detail)
}

// Loss is a relation's loss reason as a message.
func Loss(reason string) Message { return explain(lossForms, reason) }

// Alert is a code's alert as a message (nil when there is none).
func Alert(alert string) *Message {
	if alert == "" {
		return nil
	}
	m := explain(alertForms, alert)
	return &m
}

// ReasonCode is the stable code of an error answer's reason (a message
// code such as invalid.chars_range or failure.wecom), or "" for a reason no
// form knows.
func ReasonCode(reason string) string {
	if m := explain(apiReasonForms, reason); m.Code != asIs.code {
		return m.Code
	}
	if f := explain(failureForms, strings.TrimPrefix(reason, "WeCom: ")); f.Code != "failure.other" {
		return f.Code
	}
	return ""
}

// KnownReason tells whether the catalogue has a form of its own for an
// error answer's reason (TestEveryAPIReasonHasACodeAndChinese holds every
// reason the source writes to it).
func KnownReason(reason string) bool {
	return explain(apiReasonForms, reason).Code != asIs.code
}

// LocalizeReason is a 400's reason in lang: the common reasons have a
// Chinese text; the others, and every reason in English, stay as written.
func LocalizeReason(reason, lang string) string {
	if lang == LangEN {
		return reason
	}
	m := explain(apiReasonForms, reason)
	if m.Code == asIs.code {
		// A 502's reason is WeCom's error (or the network's) as it came.
		if f := explain(failureForms, strings.TrimPrefix(reason, "WeCom: ")); f.Code != "failure.other" {
			return f.In(lang)
		}
		return reason
	}
	return m.In(lang)
}

// ExplainedLead is a lead as the admin API shows it: each score line and
// stage change with its message. (A webhook's lead keeps its documented
// shape.)
type ExplainedLead struct {
	*webhook.Lead
	Breakdown   []ExplainedScoreLine  `json:"score_breakdown"`
	Transitions []ExplainedTransition `json:"transitions,omitempty"`
}

// ExplainedScoreLine is a score line with its reason as a message.
type ExplainedScoreLine struct {
	webhook.ScoreLine
	ReasonMessage Message `json:"reason_message"`
}

// ExplainedTransition is a stage change with its reason as a message.
type ExplainedTransition struct {
	webhook.LeadTransition
	ReasonMessage Message `json:"reason_message"`
}

// Lead gives the lead's score lines and stage changes their messages.
func Lead(l *webhook.Lead) *ExplainedLead {
	out := &ExplainedLead{Lead: l, Breakdown: make([]ExplainedScoreLine, len(l.Breakdown))}
	for i, line := range l.Breakdown {
		out.Breakdown[i] = ExplainedScoreLine{ScoreLine: line, ReasonMessage: ScoreLine(line.Reason)}
	}
	for _, t := range l.Transitions {
		out.Transitions = append(out.Transitions, ExplainedTransition{LeadTransition: t, ReasonMessage: Transition(t.Actor, t.Reason)})
	}
	return out
}

var allForms = func() map[string]messageForm {
	out := map[string]messageForm{asIs.code: asIs}
	for _, family := range [][]messageForm{scoreForms, stageForms, timelineForms, lossForms, alertForms, errorForms, reasonForms, failureForms} {
		for _, f := range family {
			out[f.code] = f
		}
	}
	return out
}()

var placeholder = regexp.MustCompile(`\{(\w+)(?:\|(\w+))?\}`)

// In is the message's text in lang.
func (m Message) In(lang string) string {
	f, ok := allForms[m.Code]
	if !ok {
		return m.Params["text"]
	}
	tmpl := f.texts[lang]
	if tmpl == "" {
		tmpl = f.texts[LangEN]
	}
	return placeholder.ReplaceAllStringFunc(tmpl, func(p string) string {
		g := placeholder.FindStringSubmatch(p)
		v := m.Params[g[1]]
		if g[2] == "failure" {
			return explain(failureForms, v).In(lang)
		}
		if g[2] != "" && lang != LangEN {
			if t, ok := terms[g[2]][v]; ok {
				return t
			}
			if t, ok := terms[g[2]]["*"]; ok {
				return t
			}
		}
		return v
	})
}

var messageType = reflect.TypeOf(Message{})

// Localize fills the text of every Message in v (a view about to be
// rendered: structs, pointers, slices, maps and interfaces are walked) in
// lang.
func Localize(v any, lang string) {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		localize(rv, lang)
		return
	}
	if rv.Kind() == reflect.Map || rv.Kind() == reflect.Slice {
		localize(rv, lang)
	}
}

func localize(v reflect.Value, lang string) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return
		}
		e := v.Elem()
		if v.Kind() == reflect.Interface && !e.CanSet() && (e.Kind() == reflect.Struct || e.Kind() == reflect.Array) {
			return // a struct by value in an interface is handled by its map or slice
		}
		localize(e, lang)
	case reflect.Struct:
		if v.Type() == messageType {
			if v.CanSet() {
				m := v.Interface().(Message)
				v.FieldByName("Text").SetString(m.In(lang))
			}
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				localize(v.Field(i), lang)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			localize(v.Index(i), lang)
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			val := iter.Value()
			for val.Kind() == reflect.Interface && !val.IsNil() {
				val = val.Elem()
			}
			switch val.Kind() {
			case reflect.Struct, reflect.Array:
				// Map values cannot be set in place: localize a copy and
				// put it back.
				cp := reflect.New(val.Type()).Elem()
				cp.Set(val)
				localize(cp, lang)
				v.SetMapIndex(iter.Key(), cp)
			default:
				localize(val, lang)
			}
		}
	}
}
