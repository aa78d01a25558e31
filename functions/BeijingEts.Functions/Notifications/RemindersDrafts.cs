using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Supervision;

namespace BeijingEts.Functions.Notifications;

/// <summary>
/// The reminders' words and ids. An id names the deadline, the party's own part of it and the lead
/// (<c>reminder-report-2025-20260506-10</c> in the unit's inbox: a moved deadline is reminded again), so each reminder is written once however often the timer runs.
/// </summary>
public static class ReminderDrafts
{
    public static class Kinds
    {
        public const string Report = "reminder.report";
        public const string Verification = "reminder.verification";
        public const string Surrender = "reminder.surrender";
        public const string Check = "reminder.check";
        public const string Correction = "reminder.correction";
        public const string CaseRequest = "reminder.case-request";
        public const string Objection = "reminder.objection";
        public const string MonthlyData = "reminder.monthly-data";
    }

    /// <summary>The allocation-result notices whose receipt starts the Art. 15 window.</summary>
    public static string AllocationNoticeId(bool verified, int year) => verified ? $"allocation-verified-{year:D4}" : $"allocation-pre-{year:D4}";

    private static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    private static string ZhDay(DateOnly day) => $"{day.Year}年{day.Month}月{day.Day}日";

    private static string Left(int lead) => lead == 1 ? "1 working day" : $"{lead} working days";

    public static NoticeDraft MonthlyData(string uscc, int year, int month, DateOnly due, int lead) => new(Party.Unit(uscc), $"reminder-monthly-{year:D4}-{month:D2}-{lead}", Kinds.MonthlyData,
        new NoticeText(
            $"提醒：{year}年{month}月的月度数据应于{ZhDay(due)}前报送（还剩{lead}个工作日）",
            $"贵单位尚未报送{year}年{month}月的月度排放数据及支撑材料，截止日期为{ZhDay(due)}。依据第二十一条、第二十二条，重点碳排放单位通过报送月度数据加强碳排放数据统计核算。",
            $"Reminder: your data for {year}-{month:D2} is due on {Day(due)} ({Left(lead)} left)",
            $"Your unit has not yet submitted its monthly data and supporting documents for {year}-{month:D2}; they are due on {Day(due)}. Under Art. 21 and 22, key emitting units report monthly data."),
        $"/api/units/{uscc}/monthly/{year:D4}-{month:D2}");

    public static NoticeDraft Report(string uscc, int year, DateOnly due, int lead) => new(Party.Unit(uscc), $"reminder-report-{year:D4}-{due:yyyyMMdd}-{lead}", Kinds.Report,
        new NoticeText(
            $"提醒：{year}年度碳排放报告应于{ZhDay(due)}前报送（还剩{lead}个工作日）",
            $"贵单位尚未通过管理平台报送{year}年度碳排放报告。报送截止日期为{ZhDay(due)}，距今还剩{lead}个工作日。" +
            $"依据《北京市碳排放权交易管理办法》第二十一条，碳排放单位应按要求编制年度碳排放报告，报送市生态环境部门，并对报告的真实性、准确性和完整性负责。",
            $"Reminder: your {year} annual emissions report is due on {Day(due)} ({Left(lead)} left)",
            $"Your unit has not yet submitted its {year} annual emissions report through the platform. It is due on {Day(due)}, {Left(lead)} from now. " +
            "Under Art. 21 of the Beijing Measures for the Administration of Carbon Emission Trading, every emission unit prepares its annual report and submits it to the municipal ecology and environment bureau."),
        $"/api/units/{uscc}/reports/{year:D4}");

    public static NoticeDraft Verification(string uscc, int year, DateOnly due, int lead) => new(Party.Unit(uscc), $"reminder-verification-{year:D4}-{due:yyyyMMdd}-{lead}", Kinds.Verification,
        new NoticeText(
            $"提醒：{year}年度核查报告应于{ZhDay(due)}前提交（还剩{lead}个工作日）",
            $"贵单位{year}年度的第三方核查尚未通过（尚无已受理的核查报告）。截止日期为{ZhDay(due)}，距今还剩{lead}个工作日。" +
            "依据《北京市碳排放权交易管理办法》第二十一条第二款和第二十四条，重点碳排放单位应同时提交符合条件的核查机构出具的核查报告。",
            $"Reminder: your {year} verification report is due on {Day(due)} ({Left(lead)} left)",
            $"Your unit has no accepted third-party verification for {year} yet. It is due on {Day(due)}, {Left(lead)} from now. " +
            "Under Art. 21 para 2 and Art. 24 of the Measures, a key emission unit submits the verification report of a qualified verification body with its annual report."),
        $"/api/units/{uscc}/reports/{year:D4}/verification");

    public static NoticeDraft VerificationForBody(string verifier, string uscc, int year, DateOnly due, int lead) => new(Party.Verifier(verifier),
        $"reminder-verification-{year:D4}-{uscc}-{due:yyyyMMdd}-{lead}", Kinds.Verification,
        new NoticeText(
            $"提醒：{uscc}的{year}年度核查应于{ZhDay(due)}前完成（还剩{lead}个工作日）",
            $"贵机构受托核查的单位{uscc}，其{year}年度核查报告尚未被受理。截止日期为{ZhDay(due)}，距今还剩{lead}个工作日。" +
            "依据《北京市碳排放权交易管理办法》第二十四条和第二十五条，请按本市核查要求完成核查并上传核查报告和核查结论。",
            $"Reminder: the {year} verification of {uscc} is due on {Day(due)} ({Left(lead)} left)",
            $"No verification report of yours for unit {uscc}'s {year} report has been accepted yet. It is due on {Day(due)}, {Left(lead)} from now. " +
            "Under Art. 24 and Art. 25 of the Measures, complete the verification and upload the report and the statement."),
        $"/api/verifiers/{verifier}/engagements");

    public static NoticeDraft Surrender(string uscc, int year, DateOnly due, long? shortfallT, int lead) => new(Party.Unit(uscc), $"reminder-surrender-{year:D4}-{due:yyyyMMdd}-{lead}", Kinds.Surrender,
        new NoticeText(
            $"提醒：{year}年度配额清缴截止日期为{ZhDay(due)}（还剩{lead}个工作日）",
            $"贵单位尚未完成{year}年度配额清缴{(shortfallT is { } s ? $"，尚差{s}吨" : "（年度碳排放量尚未确认）")}。清缴截止日期为{ZhDay(due)}，距今还剩{lead}个工作日。" +
            "依据《北京市碳排放权交易管理办法》第二十七条和第二十八条，重点碳排放单位应上缴与确认的年度碳排放量相等的配额，碳减排量抵销比例不得高于当年确认碳排放量的5%。",
            $"Reminder: the {year} surrender is due on {Day(due)} ({Left(lead)} left)",
            $"Your unit has not yet surrendered enough for {year}{(shortfallT is { } t ? $": {t} t are still owed" : " (its emissions are not confirmed yet)")}. The deadline is {Day(due)}, {Left(lead)} from now. " +
            "Under Art. 27 and Art. 28 of the Measures, a key emission unit surrenders allowances equal to its confirmed emissions, with offsets for at most 5% of them."),
        $"/api/units/{uscc}/compliance/{year:D4}");

    public static NoticeDraft Check(DistrictCheck check, int lead) => new(Party.District(check.District),
        $"reminder-check-{check.CheckId}-{check.DueOn:yyyyMMdd}-{lead}", Kinds.Check,
        new NoticeText(
            $"提醒：检查{check.CheckId}应于{ZhDay(check.DueOn)}前完成（还剩{lead}个工作日）",
            $"贵局的检查任务{check.CheckId}（{check.Subject}）尚未办结，应于{ZhDay(check.DueOn)}前完成，距今还剩{lead}个工作日。" +
            $"依据《北京市碳排放权交易管理办法》{(check.Kind == CheckKinds.ListChanges ? "第九条第一款" : "第二十三条第二款")}，区生态环境部门负责本地区碳排放单位的日常监督管理和相关检查。",
            $"Reminder: check {check.CheckId} is due on {Day(check.DueOn)} ({Left(lead)} left)",
            $"Your bureau's check {check.CheckId} ({check.Subject}) is still open; it is due on {Day(check.DueOn)}, {Left(lead)} from now. " +
            $"Under {(check.Kind == CheckKinds.ListChanges ? "Art. 9 para 1" : "Art. 23 para 2")} of the Measures, the district bureau supervises and checks the units in its district."),
        $"/api/checks/{check.CheckId}");

    public static NoticeDraft Correction(string uscc, DistrictCheck check, CorrectionRequest request, int lead) => new(Party.Unit(uscc),
        $"reminder-correction-{check.CheckId}-{request.Number}-{lead}", Kinds.Correction,
        new NoticeText(
            $"提醒：{check.District}生态环境局要求的更正应于{ZhDay(request.DueOn)}前提交（还剩{lead}个工作日）",
            $"{check.District}生态环境局在检查{check.CheckId}（{check.Subject}）中要求贵单位更正数据：{request.Text}。请于{ZhDay(request.DueOn)}前报送更正后的数据，距今还剩{lead}个工作日。" +
            "依据《北京市碳排放权交易管理办法》第二十二条和第二十三条第二款，碳排放单位应加强数据质量管理，区生态环境部门负责对其数据开展质量检查。",
            $"Reminder: the correction {check.District} asked for is due on {Day(request.DueOn)} ({Left(lead)} left)",
            $"In check {check.CheckId} ({check.Subject}) the district bureau asked your unit to correct its data: {request.Text}. File the corrected data by {Day(request.DueOn)}, {Left(lead)} from now. " +
            "Under Art. 22 and Art. 23 para 2 of the Measures, units manage the quality of their data and the district bureau checks it."),
        $"/api/checks/{check.CheckId}");

    /// <summary>The party a case's requests go to; none for a laboratory, which has no account here.</summary>
    public static Party? CaseParty(CaseParty party) => party.Kind switch
    {
        PartyKinds.Unit => Party.Unit(party.Id),
        PartyKinds.Verifier => Party.Verifier(party.Id),
        PartyKinds.Participant => new Party(Roles.Participant, party.Id),
        _ => null,
    };

    public static NoticeDraft CaseRequest(Party party, EnforcementCase c, DocumentRequest request, int lead) => new(party,
        $"reminder-case-{c.CaseId}-request-{request.Number}-{lead}", Kinds.CaseRequest,
        new NoticeText(
            $"提醒：案件{c.CaseId}要求的材料应于{ZhDay(request.DueOn)}前提交（还剩{lead}个工作日）",
            $"案件{c.CaseId}第{request.Number}项材料要求（{request.Text}）尚未收到答复，提交截止日期为{ZhDay(request.DueOn)}，距今还剩{lead}个工作日。" +
            "依据《北京市碳排放权交易管理办法》第三十三条，碳排放单位、自愿参与交易的单位、核查机构应配合相关监督检查工作；逾期未提交的，将记为不配合。",
            $"Reminder: the documents case {c.CaseId} asks for are due on {Day(request.DueOn)} ({Left(lead)} left)",
            $"Nothing has been received for request {request.Number} of case {c.CaseId} ({request.Text}); it is due on {Day(request.DueOn)}, {Left(lead)} from now. " +
            "Under Art. 33 of the Measures, parties cooperate with supervision; a request past its deadline with nothing received is recorded as not cooperating."),
        $"/api/cases/{c.CaseId}");

    public static NoticeDraft Objection(string uscc, int year, bool verified, DateOnly received, DateOnly closes, int lead)
    {
        var (zh, en, key) = verified ? ("核定配额", "verified allocation", "verified") : ("预发配额", "pre-allocation", "pre");
        return new(Party.Unit(uscc), $"reminder-objection-{key}-{year:D4}-{lead}", Kinds.Objection,
            new NoticeText(
                $"提醒：对{year}年度{zh}结果申请复核的期限至{ZhDay(closes)}（还剩{lead}个工作日）",
                $"贵单位于{ZhDay(received)}收到{year}年度{zh}结果。如有异议，可在{ZhDay(closes)}前向市生态环境部门申请复核，距今还剩{lead}个工作日。" +
                "依据《北京市碳排放权交易管理办法》第十五条，重点碳排放单位对核发的免费配额有异议的，自收到配额发放结果之日起七个工作日内，可向市生态环境部门申请复核。",
                $"Reminder: you may object to your {year} {en} until {Day(closes)} ({Left(lead)} left)",
                $"Your unit received its {year} {en} result on {Day(received)}. If you disagree with it, you may ask the municipal bureau to review it until {Day(closes)}, {Left(lead)} from now. " +
                "Under Art. 15 of the Measures, a key emission unit may object within seven working days of receiving its allocation result."),
            $"/api/allocation/{year:D4}/units/{uscc}");
    }
}
