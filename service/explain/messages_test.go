package explain

import (
	"strings"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/service/apierr"
	"github.com/leadgate/scrm-gateway/service/lead"
	"github.com/leadgate/scrm-gateway/service/livecode"
	"github.com/leadgate/scrm-gateway/service/staff"
	"github.com/leadgate/scrm-gateway/service/webhook"
	"github.com/leadgate/scrm-gateway/wecom"
)

// Every reason, alert, loss and timeline text the business writes has a
// code of its own, a Chinese text with no English words of ours in it, and
// an English text that is the original again (a loss reason, a code already,
// reads as a sentence).
func TestMessagesHaveCodesAndBothLanguages(t *testing.T) {
	cfg := lead.DefaultScoring()
	_, lines := cfg.Score(lead.ScoreInput{BANT: webhook.BANT{"need": {Value: webhook.BANTYes}}, Behaviour: webhook.Behaviour{Adds: 1, GroupsJoined: 1},
		Tags: []string{"高意向"}, RulePoints: map[string]int{"展会加分": 5}, LastActivityAt: time.Unix(0, 0)}, time.Unix(3*86400, 0))
	_, sqlReason := cfg.Qualify(lead.StageRaw, 70, nil, nil)
	_, bantReason := cfg.Qualify(lead.StageRaw, 0, webhook.BANT{"need": {Value: webhook.BANTYes}, "budget": {Value: webhook.BANTYes}, "timeline": {Value: webhook.BANTYes}}, nil)
	_, mqlReason := cfg.Qualify(lead.StageRaw, 40, nil, nil)
	cases := []struct {
		explain func(string) Message
		text    string
		code    string
		zh      string
	}{
		{ScoreLine, lines[0].Reason, "score.bant", "BANT 需求为“是”"},
		{ScoreLine, lines[1].Reason, "score.added_via_code", "通过活码添加"},
		{ScoreLine, lines[2].Reason, "score.joined_group", "加入客户群"},
		{ScoreLine, lines[3].Reason, "score.tag", "标签 高意向"},
		{ScoreLine, lines[4].Reason, "score.rule", "规则 展会加分"},
		{ScoreLine, lines[5].Reason, "score.recency", "最近活动：3 天前"},
		{sys, sqlReason, "stage.score_sql", "分数 70 达到 SQL 阈值 60"},
		{sys, bantReason, "stage.bant_sql", "BANT 四项中 3 项为“是”"},
		{sys, mqlReason, "stage.score_mql", "分数 40 达到 MQL 阈值 30"},
		{sys, "created from a new contact", "stage.created", "新客户，创建线索"},
		{sys, "the customer left every staff member", "stage.customer_left", "客户删除了所有成员"},
		{sys, "pushed to the CRM", "stage.handed_off", "已推送到 CRM"},
		{sys, "CRM: rejected (no budget this year)", "stage.crm_reason", "CRM：拒绝（no budget this year）"},
		{sys, "CRM: won", "stage.crm", "CRM：赢单"},
		{admin, "called, wants a demo", "text", "called, wants a demo"},
		{Timeline, "welcome sent", "welcome.sent", "已发送欢迎语"},
		{Timeline, "welcome failed: " + (&wecom.APIError{API: "externalcontact/send_welcome_msg", Code: 41050, Msg: "invalid welcome_code"}).Error(),
			"welcome.failed", "欢迎语发送失败：企业微信接口 externalcontact/send_welcome_msg 出错（错误码 41050）：欢迎语凭证无效或已过期"},
		{Timeline, "welcome not sent: the 20 s window had passed when the event was handled", "welcome.expired", "未发送欢迎语：处理时已过 20 秒窗口"},
		{Timeline, "welcome outcome unknown: WeCom did not answer before the 20 s window closed (it may have been delivered)", "welcome.unknown", "欢迎语结果未知：企业微信在 20 秒窗口内未应答（可能已送达）"},
		{Timeline, "welcome outcome unknown: an earlier attempt at this event, made within the 20 s window, may have sent it", "welcome.unknown_rerun", "欢迎语结果未知：此前在 20 秒窗口内对该事件的一次尝试可能已发送"},
		{Timeline, "welcome not sent: WeCom says the welcome code has expired (41050)", "welcome.code_expired", "未发送欢迎语：企业微信答复欢迎语凭证已过期（41050）"},
		{Timeline, "no welcome configured", "welcome.none", "未设置欢迎语"},
		{Timeline, "group 展会群 (wrOgQhDgAA1)", "group.named", "群 展会群（wrOgQhDgAA1）"},
		{Timeline, "group wrOgQhDgAA1", "group.id", "群 wrOgQhDgAA1"},
		{Timeline, "customer_deleted", "loss.customer_deleted", "客户删除了成员"},
		{Loss, "staff_deleted", "loss.staff_deleted", "成员删除了客户"},
		{Loss, "transferred", "loss.transferred", "已转接给其他成员"},
		{alert, livecode.SyncFailedAlert(&wecom.APIError{API: "externalcontact/update_contact_way", Code: 40058, Msg: "invalid Request Parameter"}), "alert.sync_failed",
			"企业微信同步失败：企业微信接口 externalcontact/update_contact_way 出错（错误码 40058）：参数不合法；将持续重试，直到同步成功"},
		// As groupcode's dryAlert writes them (TestDryAlertsHaveTheirMessages there).
		{alert, "every group in the pool is dismissed; the join way lists nothing that exists: add groups", "alert.pool_dismissed", "群池中的群都已解散，加入群聊方式没有可用的群：请添加群"},
		{alert, "every group in the pool has 3 customers or more; the code keeps serving wr1: add groups or raise the threshold", "alert.pool_full", "群池中每个群都已有 3 位及以上客户，活码继续使用 wr1：请添加群或提高阈值"},
	}
	_, a1 := livecode.WayUsers(livecode.Roster{}, livecode.Eligibility{Empty: true}, nil)
	_, a2 := livecode.WayUsers(livecode.Roster{}, livecode.Eligibility{UsingBackups: true}, nil)
	cases = append(cases, struct {
		explain    func(string) Message
		text, code string
		zh         string
	}{alert, a1, "alert.nobody_eligible", "当前没有在岗成员或备用成员，联系我方式保留上次的名单"}, struct {
		explain    func(string) Message
		text, code string
		zh         string
	}{alert, a2, "alert.using_backups", "当前没有排班成员在岗，由备用成员接待"})
	for _, c := range cases {
		m := c.explain(c.text)
		if m.Code != c.code {
			t.Errorf("%q: code %q, want %q", c.text, m.Code, c.code)
			continue
		}
		// A loss reason is a code already; its English is a sentence.
		if got := m.In(LangEN); got != c.text && !(strings.HasPrefix(c.code, "loss.") && strings.Contains(got, " ")) {
			t.Errorf("%q in English = %q", c.text, got)
		}
		if got := m.In(LangZH); got != c.zh {
			t.Errorf("%q in Chinese = %q, want %q", c.text, got, c.zh)
		}
	}
	seen := map[string]bool{}
	for _, c := range cases {
		seen[c.code] = true
	}
	for code := range allForms {
		if !seen[code] && !strings.HasPrefix(code, "invalid.") && !strings.HasPrefix(code, "error.") &&
			!strings.HasPrefix(code, "conflict.") && !strings.HasPrefix(code, "failure.") &&
			code != "welcome.not_our_code" && code != "welcome.no_code" && code != "welcome.already_delivered" {
			t.Errorf("message %s has no case here", code)
		}
	}
}

func sys(s string) Message   { return Transition("system", s) }
func admin(s string) Message { return Transition("admin", s) }
func alert(s string) Message { return *Alert(s) }

func TestLangFromAcceptLanguage(t *testing.T) {
	for in, want := range map[string]string{"": LangZH, "zh-CN,zh;q=0.9": LangZH, "en-US,en;q=0.8": LangEN, "fr, en;q=0.5": LangEN,
		"fr": LangZH, "ZH-tw": LangZH, "en": LangEN} {
		if got := Lang(in); got != want {
			t.Errorf("Lang(%q) = %q, want %q", in, got, want)
		}
	}
}

// Localize reaches messages in structs, pointers, slices, maps and
// interfaces, as the handler's views hold them.
func TestLocalizeWalksViews(t *testing.T) {
	type timelineItem struct {
		Kind    string
		Message *Message
	}
	m := func() *Message { x := Loss("transferred"); return &x }
	lead := Lead(&webhook.Lead{Breakdown: []webhook.ScoreLine{{Reason: "added via a live code"}}, Transitions: []webhook.LeadTransition{{Actor: "system", Reason: "pushed to the CRM"}}})
	byValue := Loss("staff_deleted")
	v := map[string]any{
		"lead":     lead,
		"rels":     []map[string]any{{"loss_message": m()}},
		"value":    byValue,
		"timeline": []timelineItem{{Message: func() *Message { x := Timeline("welcome sent"); return &x }()}},
	}
	Localize(v, LangZH)
	got := []string{lead.Breakdown[0].ReasonMessage.Text, lead.Transitions[0].ReasonMessage.Text,
		v["rels"].([]map[string]any)[0]["loss_message"].(*Message).Text, v["value"].(Message).Text,
		v["timeline"].([]timelineItem)[0].Message.Text}
	if strings.Join(got, "|") != "通过活码添加|已推送到 CRM|已转接给其他成员|成员删除了客户|已发送欢迎语" {
		t.Fatalf("localized = %q", got)
	}
}

// A 502 that carries WeCom's error reads in Chinese too.
func TestUpstreamReasonReadsInChinese(t *testing.T) {
	err := &apierr.UpstreamError{Err: &wecom.APIError{API: "externalcontact/groupchat/update_join_way", Code: 40058, Msg: "invalid config_id"}}
	if got := LocalizeReason(err.Error(), LangZH); got != "企业微信接口 externalcontact/groupchat/update_join_way 出错（错误码 40058）：参数不合法" {
		t.Fatalf("502 in Chinese: %q", got)
	}
	if got := LocalizeReason(err.Error(), LangEN); got != err.Error() {
		t.Fatalf("502 in English: %q", got)
	}
}

// A 400's common reasons read in Chinese for a request that asks for it;
// English stays as written, and so does a reason with no Chinese text.
func TestLocalizeReason(t *testing.T) {
	for reason, zh := range map[string]string{
		"is required":                       "必填",
		"must be 1 to 64 characters":        "须为 1 到 64 个字符",
		"must be at most 128 characters":    "最多 128 个字符",
		"must be between 0 and 1000":        "须在 0 到 1000 之间",
		"must be a string":                  "须为文本",
		"must be a whole number, 0 or more": "须为 0 或更大的整数",
		"is not a field of this object (check its spelling in docs/API.md)": "不是此对象的字段（请检查拼写，见 docs/API.md）",
		`unknown tag "高意向" (not in the corp's tag catalogue)`:               "未知标签“高意向”（不在企业标签库中）",
		"no channel code 9999":                                     "没有渠道活码 9999",
		"the body may be at most 1 MiB":                            "请求体最大 1 MiB",
		"something only this route says":                           "something only this route says",
		"must be one of admin, staff, viewer":                      "须为以下之一：admin, staff, viewer",
		`tag "展会" is named by tag rules (展会加分): change them first`: "标签“展会”被标签规则（展会加分）使用：请先修改这些规则",
		"must be a number from -90 to 90 (GCJ-02 degrees)":         "须为 -90 到 90 之间的数（GCJ-02 坐标，单位：度）",
		// the validations' own reasons
		"must be from 0 to 1000000000":                             "须为 0 到 1000000000",
		"unknown placeholder {phone} (use {name}, {code}, {date})": "未知的占位符 {phone}（可用 {name}、{code}、{date}）",
		`"lisi" is already members[0]`:                             "“lisi”已在成员列表中（members[0]）",
		"must be a time HH:MM from 00:00 to 23:59":                 "须为 00:00 到 23:59 之间的时间 HH:MM",
		"points to a loopback address (127.0.0.1); allowed only for a host named in webhooks.allowed_hosts, or with webhooks.allow_private_networks": "指向本机回环地址（127.0.0.1）：仅允许 webhooks.allowed_hosts 中列出的主机，或设置 webhooks.allow_private_networks 后允许",
		`host "crm.lan" resolves to a private address (10.0.0.5); never allowed`:                                                                     "主机“crm.lan”解析为内网地址（10.0.0.5）：一律不允许",
	} {
		if got := LocalizeReason(reason, LangZH); got != zh {
			t.Errorf("%q in Chinese = %q, want %q", reason, got, zh)
		}
		if got := LocalizeReason(reason, LangEN); got != reason {
			t.Errorf("%q in English = %q", reason, got)
		}
	}
}

// The errors stored on jobs, events and webhook deliveries, and carried in
// sync alerts, read in Chinese: WeCom's errcodes by name, our budget, an
// endpoint's answer and the network's failures; any other error says so in
// Chinese and keeps its English in the message's parameters.
func TestFailuresReadInChinese(t *testing.T) {
	for _, c := range []struct {
		err  string
		code string
		zh   string
	}{
		{(&wecom.APIError{API: "externalcontact/add_contact_way", Code: 41045}).Error(), "failure.wecom",
			"企业微信接口 externalcontact/add_contact_way 出错（错误码 41045）：联系我方式数量已达上限"},
		{"configuration: " + (&wecom.APIError{API: "externalcontact/get", Code: 60020, Msg: "not allow to access from your ip"}).Error(), "failure.config",
			"企业配置有误，需要管理员处理：企业微信接口 externalcontact/get 出错（错误码 60020）：服务器 IP 不在企业的可信 IP 中"},
		{(&wecom.APIError{API: "externalcontact/get", Code: 99999}).Error(), "failure.wecom", "企业微信接口 externalcontact/get 出错（错误码 99999）：未知错误"},
		{"job 3: fetch: " + (&wecom.BudgetError{API: "externalcontact/get", RetryAfter: 2 * time.Second, Held: true}).Error(), "failure.wecom_held",
			"企业微信接口 externalcontact/get 触发频率限制，暂停调用，2s 后重试"},
		{(&wecom.BudgetError{API: "externalcontact/mark_tag", RetryAfter: time.Second}).Error(), "failure.wecom_budget", "企业微信接口 externalcontact/mark_tag 的调用预算已用完，1s 后重试"},
		{webhook.AttemptResult{StatusCode: 503}.Describe(), "failure.http", "对方返回 HTTP 503，需要 2xx"},
		{webhook.AttemptResult{StatusCode: 302}.Describe(), "failure.http_redirect", "对方返回 HTTP 302：不跟随重定向"},
		{"gave up after 8 attempts: HTTP 500", "failure.gave_up", "尝试 8 次后放弃：对方返回 HTTP 500，需要 2xx"},
		{"Post: dial tcp 127.0.0.1:9: connect: connection refused", "failure.refused", "无法连接：连接被拒绝"},
		{"Post: context deadline exceeded (Client.Timeout exceeded while awaiting headers)", "failure.timeout", "超时：对方未在时限内应答"},
		{"Post: dial tcp: lookup crm.invalid: no such host", "failure.no_host", "域名无法解析"},
		{"Post: tls: failed to verify certificate: x509: certificate signed by unknown authority", "failure.tls", "TLS 握手或证书出错"},
		{"Post: refused address: 10.0.0.8 is a private address", "failure.refused_address", "目标地址被拒绝（内网或保留地址，见 Webhook 网络设置）：10.0.0.8 is a private address"},
		{"endpoint disabled: disabled by an admin", "failure.endpoint_disabled", "端点已停用：管理员已停用"},
		{"failing without a success since 2026-12-01T08:00:00Z (72h0m0s)", "failure.failing_since", "自 2026-12-01T08:00:00Z 起持续失败，超过 72h0m0s 没有成功"},
		{"the endpoint answered 410 Gone", "failure.gone", "端点答复 410 Gone（已不存在）"},
		{"store: unable to look up staff: database is locked", "failure.other", "处理出错（英文原文见详情）"},
	} {
		m := Failure(c.err)
		if m.Code != c.code || m.In(LangZH) != c.zh {
			t.Errorf("%q: %s %q, want %s %q", c.err, m.Code, m.In(LangZH), c.code, c.zh)
		}
		if m.In(LangEN) == "" {
			t.Errorf("%q has no English", c.err)
		}
	}
	if Failure("") != nil {
		t.Fatal("no error, yet a message")
	}
}

// An error answer's reason has its stable code whatever the language; a
// reason no form knows has none.
func TestReasonCode(t *testing.T) {
	for reason, code := range map[string]string{
		"must be 1 to 64 characters":  "invalid.chars_range",
		staff.NotStaffReason("ghost"): "invalid.not_staff",
		(&apierr.UpstreamError{Err: &wecom.APIError{API: "externalcontact/get", Code: 60020}}).Error(): "failure.wecom",
		"something nobody wrote a form for": "",
	} {
		if got := ReasonCode(reason); got != code {
			t.Errorf("ReasonCode(%q) = %q, want %q", reason, got, code)
		}
	}
}
