using BeijingEts.Domain.Ledger;
using BeijingEts.Functions.Allocation;
using BeijingEts.Functions.Lists;
using BeijingEts.Functions.Reporting;

namespace BeijingEts.Functions.Notifications;

/// <summary>
/// The words of each notice, Chinese first (the platform's language of record) with the English beside it. One method
/// per event; each names the article that gives the party its right or duty.
/// </summary>
public static class NoticeTemplates
{
    /// <summary>
    /// A party's notice addresses changed: told to the previous addresses as well as the new ones (<c>AlsoTo</c>), so a
    /// change nobody at the party made (a taken-over account redirecting its legal notices) does not go unseen. The
    /// addresses are masked: the text stays in the inbox.
    /// </summary>
    /// <summary>Who acted, as a notice names them: the role, its scope and the person's id.</summary>
    public static string Who(Auth.Actor by) => by.Scope is null ? $"{by.Role} {by.Id}" : $"{by.Role} {by.Scope} ({by.Id})";

    public static NoticeDraft ContactsChanged(Party party, IReadOnlyList<Contact> before, IReadOnlyList<Contact> after, DateTimeOffset at, string who)
    {
        var added = after.Where(a => !before.Any(b => b.Email.Equals(a.Email, StringComparison.OrdinalIgnoreCase))).Select(c => Contact.Mask(c.Email)).ToList();
        var removed = before.Where(b => !after.Any(a => a.Email.Equals(b.Email, StringComparison.OrdinalIgnoreCase))).Select(c => Contact.Mask(c.Email)).ToList();
        var local = at.ToOffset(Lists.BeijingTime.Offset);
        string List(IReadOnlyList<string> masked, string none) => masked.Count == 0 ? none : string.Join(", ", masked);
        // The change's instant and what it changed: one notice per change, the same one if the step runs again.
        static string Set(IReadOnlyList<Contact> list) => string.Join(",", list.Select(c => c.Email.ToLowerInvariant()).Order(StringComparer.Ordinal));
        var change = Set(before) + ">" + Set(after);
        var hash = Digest.Hex(change, 8);
        return new(party, $"contacts-changed-{local:yyyyMMddHHmmssfffffff}-{hash}", "contacts.changed",
            new("接收通知的联系人已变更",
                $"接收本平台通知的电子邮件地址已于 {local:yyyy-MM-dd HH:mm}（北京时间）由 {who} 修改。新增：{List(added, "无")}；移除：{List(removed, "无")}；现有 {after.Count} 个地址。" +
                "本通知同时发送至变更前后的地址。如非贵方所为，请立即联系北京市生态环境局并更改登录凭据。",
                "Your notice contacts were changed",
                $"The email addresses that receive this platform's notices were changed on {local:yyyy-MM-dd HH:mm} (Beijing time) by {who}. Added: {List(added, "none")}; removed: {List(removed, "none")}; {after.Count} address(es) now. " +
                "This notice goes to the addresses before and after the change. If you did not make it, contact the Beijing Municipal Ecology and Environment Bureau at once and change your sign-in credentials."),
            $"/api/parties/{party.Key}/contacts", AlsoTo: before);
    }

    public static NoticeDraft PreAllocation(string uscc, int year, Tonnes preAllocated) => new(Party.Unit(uscc), $"allocation-pre-{year}", "allocation.pre-allocated",
        new($"{year}年度配额预分配结果", $"贵单位{year}年度预分配配额为 {preAllocated.Value} 吨，已发放至登记账户。如有异议，可自收到本通知之日起7个工作日内提出（第十五条）。",
            $"{year} pre-allocation result", $"Your {year} pre-allocation is {preAllocated.Value} t, issued to your registry account. You may object within 7 working days of receiving this notice (Art. 15)."),
        $"/api/allocation/{year}/units/{uscc}");

    public static NoticeDraft VerifiedAllocation(UnitAllocation a)
    {
        var (verified, topUp, carried) = (a.Verified!.Value.Value, a.TopUp!.Value.Value, a.CarriedDeduction!.Value.Value);
        var taken = a.ClawedBack?.Value ?? 0;
        var decided = a.DeductedByDecisions?.Value ?? 0;
        var previous = a.DeductedFromPreviousYear?.Value ?? 0;
        var deductedZh = (decided > 0 ? $"依处理决定核减 {decided} 吨；" : "") + (previous > 0 ? $"扣减上一年度未收回配额 {previous} 吨；" : "");
        var deductedEn = (decided > 0 ? $"{decided} t deducted by decisions; " : "") + (previous > 0 ? $"{previous} t of last year's unrecovered claw-back deducted; " : "");
        return new(Party.Unit(a.Uscc), $"allocation-verified-{a.Year}", "allocation.verified",
            new($"{a.Year}年度配额核定结果", $"贵单位{a.Year}年度核定配额为 {verified} 吨；{deductedZh}补发 {topUp} 吨，收回 {taken} 吨，结转至下一年度扣减 {carried} 吨。如有异议，可自收到本通知之日起7个工作日内提出（第十五条）。",
                $"{a.Year} verified allocation result", $"Your {a.Year} verified allocation is {verified} t; {deductedEn}{topUp} t topped up, {taken} t taken back, {carried} t to come off next year's allocation. You may object within 7 working days of receiving this notice (Art. 15)."),
            $"/api/allocation/{a.Year}/units/{a.Uscc}");
    }

    public static NoticeDraft ObjectionDecided(string uscc, string objectionId, int year, bool upheld, Tonnes? adjustment) => new(Party.Unit(uscc), $"objection-{objectionId}-decided", "objection.decided",
        new($"{year}年度配额异议处理结果", upheld ? $"贵单位的异议已被采纳{(adjustment is { } a ? $"，调整配额 {a.Value} 吨" : "")}（第十五条）。" : "贵单位的异议未被采纳（第十五条），理由见处理决定。",
            $"Your objection to the {year} allocation was decided", upheld ? $"Your objection was upheld{(adjustment is { } b ? $"; {b.Value} t adjusted" : "")} (Art. 15)." : "Your objection was rejected (Art. 15); the decision gives the reasons."),
        $"/api/objections/{objectionId}");

    public static NoticeDraft AdjustmentDecided(string uscc, string adjustmentId, int year, string outcome, long quantity) => new(Party.Unit(uscc), $"adjustment-{adjustmentId}-decided", "adjustment.decided",
        new($"{year}年度配额调整申请处理结果", outcome switch
            {
                "refused" => "贵单位的配额调整申请未获批准（第十一条、第十二条），理由见处理决定。",
                _ => $"贵单位的配额调整申请已{(outcome == "partial" ? "部分" : "")}批准，调整 {quantity} 吨（第十一条、第十二条）。",
            },
            $"Your {year} allocation adjustment application was decided", outcome == "refused"
                ? "Your allocation adjustment application was refused (Art. 11, 12); the decision gives the reasons."
                : $"Your allocation adjustment application was {(outcome == "partial" ? "partly " : "")}granted: {quantity} t (Art. 11, 12)."),
        $"/api/adjustments/{adjustmentId}");

    public static NoticeDraft ApprovalRequested(string proposalId, string summary, string proposedBy) => new(Party.Regulator, $"approval-{proposalId}", "approval.requested",
        new("待审批事项", $"{proposedBy} 提议：{summary}。此事项需另一位监管人员审批后执行。", "Approval requested", $"{proposedBy} proposes: {summary}. It takes effect once another regulator approves it."),
        $"/api/approvals/{proposalId}");

    public static NoticeDraft CorrectionRequested(string uscc, string checkId, int sequence, string text, DateOnly dueOn) => new(Party.Unit(uscc), $"check-{checkId}-correction-{sequence}", "check.correction-requested",
        new("区生态环境部门要求更正数据", $"区生态环境部门在核查中要求贵单位于 {dueOn:yyyy-MM-dd} 前更正：{text}（第二十三条）。请提交修订后的数据。",
            "Your district asks for a correction", $"Your district bureau asks you to correct by {dueOn:yyyy-MM-dd}: {text} (Art. 23). Please submit revised data."),
        $"/api/checks/{checkId}");

    public static NoticeDraft CheckSignedOff(string uscc, string checkId, int round, string outcome) => new(Party.Unit(uscc), $"check-{checkId}-signed-off-{round}", "check.signed-off",
        new("区生态环境部门核查结果", outcome == "passed" ? "区生态环境部门已完成核查，未发现问题。" : "区生态环境部门已完成核查并发现问题，详见核查记录。",
            "Your district's check result", outcome == "passed" ? "Your district bureau signed off its check: no issues found." : "Your district bureau signed off its check with issues found; see the check."),
        $"/api/checks/{checkId}");

    public static NoticeDraft CaseRequest(Party party, string caseId, int request, string what, DateOnly dueOn) => new(party, $"case-{caseId}-request-{request}", "case.request",
        new("监督检查：请提供材料", $"请于 {dueOn:yyyy-MM-dd} 前提供：{what}。逾期不提供的，按拒不配合处理（第三十三条）。",
            "Supervision: documents requested", $"Please provide by {dueOn:yyyy-MM-dd}: {what}. Not providing them counts as refusing to cooperate (Art. 33)."),
        $"/api/cases/{caseId}");

    public static NoticeDraft CaseDecided(Party party, string caseId, int decision, string outcome) => new(party, $"case-{caseId}-decision-{decision}", "case.decided",
        new("监督检查处理决定", $"关于贵单位的案件已作出处理决定：{outcome}。", "Supervision: decision", $"A decision was made in the case concerning you: {outcome}."),
        $"/api/cases/{caseId}");

    public static NoticeDraft VerificationOutcome(Party party, string uscc, int year, bool accepted, IReadOnlyList<string> reasons, string submissionId) => new(party,
        $"verification-{year}-{uscc}-{submissionId}", accepted ? "verification.accepted" : "verification.rejected",
        new($"{year}年度核查报告{(accepted ? "已受理" : "被退回")}",
            accepted ? $"{uscc} 的{year}年度核查报告及声明已受理（第二十四条）。" : $"{uscc} 的{year}年度核查报告被退回：{string.Join("；", reasons)}。请更正后重新上传。",
            $"{year} verification report {(accepted ? "accepted" : "rejected")}",
            accepted ? $"The {year} verification report and statement of {uscc} were accepted (Art. 24)." : $"The {year} verification report of {uscc} was rejected: {string.Join("; ", reasons)}. Please correct and upload again."),
        $"/api/units/{uscc}/reports/{year}/verification");

    public static NoticeDraft Surrendered(string uscc, int year, string surrenderId, Tonnes quantity, string state) => new(Party.Unit(uscc), $"surrender-{year}-{surrenderId}", "surrender.settled",
        new($"{year}年度配额清缴{(state == "completed" ? "完成" : "未完成")}", state == "completed" ? $"贵单位已清缴{year}年度配额 {quantity.Value} 吨（第二十七条）。" : $"贵单位{year}年度 {quantity.Value} 吨的清缴未能完成，请查看原因后重新提交。",
            $"{year} surrender {(state == "completed" ? "settled" : "not settled")}", state == "completed" ? $"You surrendered {quantity.Value} t for {year} (Art. 27)." : $"Your surrender of {quantity.Value} t for {year} did not settle; see why and submit again."),
        $"/api/units/{uscc}/surrenders/{year}");

    public static NoticeDraft ComplianceStatus(string uscc, int year, string status, Tonnes shortfall) => new(Party.Unit(uscc), $"compliance-{year}", "compliance.status",
        new($"{year}年度履约状态：{(status == "compliant" ? "已履约" : "未履约")}", status == "compliant" ? $"贵单位{year}年度已按期足额清缴配额。" : $"贵单位{year}年度未按期足额清缴配额，差额 {shortfall.Value} 吨，将依法处理（第三十二条）。",
            $"{year} compliance status: {status}", status == "compliant" ? $"You met your {year} surrender obligation in full and on time." : $"You did not surrender enough for {year}: {shortfall.Value} t short; the case will be handled under Art. 32."),
        $"/api/units/{uscc}/compliance/{year}");

    /// <summary>The reason in each language: the Chinese body names it in Chinese, the English one as the API writes it.</summary>
    public static NoticeDraft AccountSuspended(Party holder, string account, string suspensionId, string reasonZh, string reasonEn) => new(holder, $"account-{account}-{suspensionId}", "account.suspended",
        new("登记账户已被暂停", $"账户 {account} 已被暂停：{reasonZh}。暂停期间不能卖出或转出配额（第十六条）。", "Registry account suspended",
            $"Account {account} was suspended: {reasonEn}. While suspended it cannot sell or transfer allowances (Art. 16)."),
        $"/api/ledger/accounts/{account}");

    public static NoticeDraft ListIncluded(string uscc, int year, int revision, string category) => new(Party.Unit(uscc), $"list-{year}-r{revision}-{category}", "list.included",
        new($"纳入{year}年度{(category == "key" ? "重点碳排放单位" : "一般报告单位")}名单", $"贵单位已纳入{year}年度{(category == "key" ? "重点碳排放单位" : "一般报告单位")}名单（第七条），须按规定报告排放{(category == "key" ? "并履行配额清缴义务" : "")}。",
            $"Included in the {year} list as a {(category == "key" ? "key emitting unit" : "general reporting unit")}", $"You are on the {year} list as a {(category == "key" ? "key emitting unit" : "general reporting unit")} (Art. 7): report your emissions{(category == "key" ? " and surrender allowances" : "")} as the Measures require."),
        $"/api/lists/{year}");

    public static NoticeDraft ListRemoved(string uscc, int year, int revision) => new(Party.Unit(uscc), $"list-{year}-r{revision}-removed", "list.removed",
        new($"移出{year}年度名单", $"贵单位未列入{year}年度名单（第七条、第八条）。", $"Not on the {year} list", $"You are not on the {year} list (Art. 7, 8)."),
        $"/api/lists/{year}");

    public static NoticeDraft ObjectionFiled(Objection o) => new(Party.Regulator, $"objection-{o.Id}-filed", "objection.filed",
        new($"待处理：{o.Uscc} 对{o.Year}年度配额提出异议", $"{o.Uscc} 对{o.Year}年度配额提出异议：{Quote(o.Reason)}。请于 {o.DecisionDeadline:yyyy-MM-dd} 前作出处理决定（第十五条：自收到申请之日起10个工作日内）。",
            $"To decide: {o.Uscc} objects to its {o.Year} allocation", $"{o.Uscc} objects to its {o.Year} allocation: {Quote(o.Reason)}. Decide by {o.DecisionDeadline:yyyy-MM-dd} (Art. 15: within 10 working days of the application)."),
        $"/api/objections/{o.Id}");

    public static NoticeDraft AdjustmentFiled(AdjustmentApplication a) => new(Party.Regulator, $"adjustment-{a.Id}-filed", "adjustment.filed",
        new($"待处理：{a.Uscc} 申请调整{a.Year}年度配额", $"{a.Uscc} 申请{(a.RequestedT > 0 ? "增加" : "核减")}{a.Year}年度配额 {Math.Abs(a.RequestedT)} 吨（{a.Reason}）：{Quote(a.Explanation)}。请按谨慎、从严的原则核实后作出决定（第十一条、第十二条）。",
            $"To decide: {a.Uscc} applies to adjust its {a.Year} allocation", $"{a.Uscc} asks for {Math.Abs(a.RequestedT)} t {(a.RequestedT > 0 ? "more" : "less")} {a.Year} allocation ({a.Reason}): {Quote(a.Explanation)}. Check it prudently and strictly and decide (Art. 11, 12)."),
        $"/api/adjustments/{a.Id}");

    /// <summary>To the unit's district bureau, which verifies it first, and to the regulator, which confirms it after (Art. 9).</summary>
    public static NoticeDraft RemovalRequested(Party to, Removal r) => new(to, $"removal-{r.Id}-requested", "removal.requested",
        new($"待处理：{r.Uscc} 移出重点碳排放单位名单的申请", $"已申请将 {r.Uscc} 自 {r.EffectiveOn:yyyy-MM-dd} 起移出重点碳排放单位名单（{r.Reason}）：{Quote(r.Explanation)}。"
                + (to.Role == Auth.Roles.District ? "请核实后确认或驳回（第九条）。" : $"须先经{Domain.Lists.Districts.Bureau(r.District)}核实确认，再由市生态环境部门确认（第九条）。"),
            $"To decide: removal of {r.Uscc} from the key-unit list", $"Removal of {r.Uscc} from the key-unit list from {r.EffectiveOn:yyyy-MM-dd} is requested ({r.Reason}): {Quote(r.Explanation)}. "
                + (to.Role == Auth.Roles.District ? "Please verify it and confirm or reject it (Art. 9)." : $"The {r.District} bureau verifies and confirms it first, then the regulator (Art. 9).")),
        $"/api/removals/{r.Id}");

    public static NoticeDraft RemovalAwaitsRegulator(Removal r) => new(Party.Regulator, $"removal-{r.Id}-district-confirmed", "removal.district-confirmed",
        new($"待确认：{r.Uscc} 移出名单已经区级核实", $"{Domain.Lists.Districts.Bureau(r.District)}已核实确认 {r.Uscc} 自 {r.EffectiveOn:yyyy-MM-dd} 起移出重点碳排放单位名单，请确认或驳回（第九条）。",
            $"To confirm: removal of {r.Uscc} verified by its district", $"The {r.District} bureau confirmed the removal of {r.Uscc} from the key-unit list from {r.EffectiveOn:yyyy-MM-dd}; confirm or reject it (Art. 9)."),
        $"/api/removals/{r.Id}");

    public static NoticeDraft RemovalDecided(Removal r) => r.State == RemovalState.Confirmed
        ? new(Party.Unit(r.Uscc), $"removal-{r.Id}-confirmed", "removal.confirmed",
            new("已移出重点碳排放单位名单", $"贵单位自 {r.EffectiveOn:yyyy-MM-dd} 起移出重点碳排放单位名单（第九条）。{(r.ReclaimTransactionId is null ? "" : $"{r.ReclaimPreAllocationYear}年度预发的免费配额予以收回（第十四条）。")}请于 {r.AccountCancellationDeadline:yyyy-MM-dd} 前注销登记账户，逾期账户将被暂停使用（第九条）。",
                "Removed from the key-unit list", $"You are off the key-unit list from {r.EffectiveOn:yyyy-MM-dd} (Art. 9). {(r.ReclaimTransactionId is null ? "" : $"Your {r.ReclaimPreAllocationYear} pre-allocated free allowances are to be taken back (Art. 14). ")}Close your registry account by {r.AccountCancellationDeadline:yyyy-MM-dd}, or it will be suspended (Art. 9)."),
            $"/api/removals/{r.Id}")
        : new(Party.Unit(r.Uscc), $"removal-{r.Id}-rejected", "removal.rejected",
            new("移出名单申请未获确认", $"将贵单位自 {r.EffectiveOn:yyyy-MM-dd} 起移出重点碳排放单位名单的申请被驳回：{Quote(r.RejectionReason ?? "")}。贵单位仍为重点碳排放单位，可在补充材料后重新申请（第九条）。",
                "Removal from the list refused", $"The request to take you off the key-unit list from {r.EffectiveOn:yyyy-MM-dd} was refused: {Quote(r.RejectionReason ?? "")}. You remain a key unit and may ask again with more evidence (Art. 9)."),
            $"/api/removals/{r.Id}");

    /// <summary>Under the id the confirmation keeps (<see cref="ConfirmedEmissions.NoticeId"/>): each figure confirmed is told once.</summary>
    public static NoticeDraft EmissionsConfirmed(ConfirmedEmissions c) => new(Party.Unit(c.Uscc), c.NoticeId ?? EmissionsConfirmedId(c), "emissions.confirmed",
        new($"{c.Year}年度碳排放量已确认", $"市生态环境部门确认贵单位{c.Year}年度碳排放量为 {c.ConfirmedEmissionsT.Value} 吨（第二十三条）"
                + (c.Basis == ConfirmationBasis.Verified ? "，即核查报告的核查量。" : $"，由市生态环境部门核定（贵单位报告 {c.ReportedEmissionsT.Value} 吨），理由：{Quote(c.Reason ?? "")}。") + "贵单位应上缴与之相等的配额（第二十七条）。",
            $"{c.Year} emissions confirmed", $"The regulator confirmed your {c.Year} emissions as {c.ConfirmedEmissionsT.Value} t (Art. 23)"
                + (c.Basis == ConfirmationBasis.Verified ? ", the verified total." : $", set by the regulator (you reported {c.ReportedEmissionsT.Value} t) because: {Quote(c.Reason ?? "")}.") + " You surrender allowances equal to it (Art. 27)."),
        $"/api/units/{c.Uscc}/reports/{c.Year}/confirmation");

    /// <summary>
    /// A confirmation's notice id: the year, report version, basis and figure, and a digest of the id of the notice it
    /// replaces (so each confirmation in a chain has its own); without one, as confirmations recorded before they kept
    /// their notice's id were told.
    /// </summary>
    public static string EmissionsConfirmedId(ConfirmedEmissions c, string? replacing = null) =>
        $"emissions-{c.Year}-v{c.ReportVersion}-{(c.Basis == ConfirmationBasis.Verified ? "verified" : "adjusted")}-{c.ConfirmedEmissionsT.Value}"
        + (replacing is null ? "" : "-" + Digest.Hex(replacing, 8));

    /// <summary>A party's own words as a notice quotes them: cut short past <paramref name="max"/> characters (the link leads to the whole record).</summary>
    private static string Quote(string text, int max = 500) =>
        text.Length <= max ? text : string.Concat(text.AsSpan(0, char.IsHighSurrogate(text[max - 1]) ? max - 1 : max), "…");
}
