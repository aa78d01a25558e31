using BeijingEts.Domain.Ledger;
using BeijingEts.Functions.Allocation;
using BeijingEts.Functions.Calendar;
using BeijingEts.Functions.Hosting.Invocation;
using BeijingEts.Functions.Hosting.Local;
using BeijingEts.Functions.Lists;
using BeijingEts.Functions.Notifications;
using BeijingEts.Functions.Tests.Lists;
using BeijingEts.Functions.Tests.Reporting;
using BeijingEts.Functions.Tests.Verification;

namespace BeijingEts.Functions.Tests.Notifications;

public sealed class ReminderFixture : EtsAppFixture;

/// <summary>
/// Reminders before deadlines (Art. 15, 21, 23, 33): at 10, 3 and 1 working days, counted on the holiday calendar, only
/// to the parties that have not acted, each once however often the timer runs; read as the party reads its inbox.
/// </summary>
public sealed class ReminderTests(ReminderFixture app) : IClassFixture<ReminderFixture>
{
    private const int Year = 2025;
    private readonly ReportingClient _reporting = new(app);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private HttpClient Regulator => _reporting.Regulator;
    private ReminderService Reminders => app.Service<ReminderService>();

    private static DateOnly D(string iso) => DateOnly.Parse(iso, System.Globalization.CultureInfo.InvariantCulture);

    private Task RunAsync(string day) => Reminders.RunAsync(D(day), Ct);

    /// <summary>The party's reminders, as it reads them through GET /api/notifications.</summary>
    private async Task<IReadOnlyList<JsonElement>> RemindersOfAsync(string role, string scope)
    {
        var inbox = await app.Client(role, scope).GetFromJsonAsync<JsonElement>("/api/notifications", Ct);
        return inbox.GetProperty("notifications").EnumerateArray().Where(n => n.GetProperty("kind").GetString()!.StartsWith("reminder.", StringComparison.Ordinal)).ToList();
    }

    private static IReadOnlyList<string> Ids(IEnumerable<JsonElement> notices) => notices.Select(n => n.GetProperty("id").GetString()!).Order(StringComparer.Ordinal).ToList();

    private async Task PutScheduleAsync(int year, string preAllocation, string reportsDue, string verificationDue, string surrenderDue)
    {
        var at = (string day, int hour) => new DateTimeOffset(D(day).ToDateTime(new TimeOnly(hour, 0)), TimeSpan.FromHours(8));
        var response = await Regulator.PutAsJsonAsync($"/api/cycles/{year}/schedule", new
        {
            listPublication = at(preAllocation, 0).AddDays(-20), preAllocation = at(preAllocation, 9), reportsDue = at(reportsDue, 17), verificationDue = at(verificationDue, 17),
            confirmationDue = at(verificationDue, 17).AddDays(20), verifiedAllocation = at(verificationDue, 17).AddDays(40), surrenderDue = at(surrenderDue, 17),
            close = at(surrenderDue, 17).AddDays(10),
        }, Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync(Ct));
    }

    /// <summary>The 2025 cycle's dates: reports due Wed 6 May 2026, verification Tue 30 June, surrender Fri 27 November.</summary>
    private Task PutYearScheduleAsync() =>
        PutScheduleAsync(Year, preAllocation: "2025-02-10", reportsDue: "2026-05-06", verificationDue: "2026-06-30", surrenderDue: "2026-11-27");

    /// <summary>
    /// Deadlines counted from today run into next year in December, whose holiday notice is not shipped: the tests that
    /// count from today load a minimal one, as the bureau loads the real one when the State Council publishes it.
    /// </summary>
    private Task NextYearsCalendarAsync() => new Ledger.LedgerClient(app).PutCalendarForNextYearAsync();

    private async Task<IReadOnlyList<JsonElement>> RemindersOfAsync(string role, string scope, string kind) =>
        (await RemindersOfAsync(role, scope)).Where(n => n.GetProperty("kind").GetString() == kind).ToList();

    [Fact]
    public async Task AKeyUnitMissingAMonthsData_IsRemindedBeforeItsDueDay_AndOneThatReportedIsNot()
    {
        var silent = await _reporting.ListedUnitAsync(Year);
        var diligent = await _reporting.ListedUnitAsync(Year);
        var general = await _reporting.ListedUnitAsync(Year, key: false);
        await app.Service<BeijingEts.Functions.Reporting.MonthlyDataStore>().AddAsync(diligent, Year, 3, revision => new BeijingEts.Functions.Reporting.MonthlyRecord(
            diligent, $"{Year}-03", revision, DateTimeOffset.UtcNow, "test", D("2031-12-31"), [], [], 100m, 0m, 0m, null, [], [], Year, new Tonnes(10), new Tonnes(57), new Tonnes(67)), Ct);

        // March's data is due 40 days after 31 March: Saturday 10 May 2025, as far as Friday 9 May. From 22 April to 9 May,
        // over the Labour Day holiday (1-5 May, 27 April a make-up working day), the unit is told at 10, 3 and 1 working days.
        for (var day = D("2025-04-22"); day <= D("2025-05-09"); day = day.AddDays(1)) await Reminders.RunAsync(day, Ct);

        var march = (await RemindersOfAsync("unit", silent, ReminderDrafts.Kinds.MonthlyData)).Where(n => n.GetProperty("id").GetString()!.StartsWith($"reminder-monthly-{Year}-03-", StringComparison.Ordinal)).ToList();
        Assert.Equal([$"reminder-monthly-{Year}-03-1", $"reminder-monthly-{Year}-03-10", $"reminder-monthly-{Year}-03-3"], Ids(march));
        Assert.Contains("2025-05-10", march[0].GetProperty("subjectEn").GetString());
        Assert.DoesNotContain(await RemindersOfAsync("unit", diligent, ReminderDrafts.Kinds.MonthlyData), n => n.GetProperty("id").GetString()!.Contains("-03-", StringComparison.Ordinal));
        Assert.Empty(await RemindersOfAsync("unit", general, ReminderDrafts.Kinds.MonthlyData)); // general reporting units report yearly only
    }

    [Fact]
    public async Task AUnitThatHasNotReported_IsRemindedTenThreeAndOneWorkingDaysBefore_CountedOverTheLabourDayHoliday_OnceEach()
    {
        await _reporting.SetFactorsAsync(Year);
        var silent = await _reporting.ListedUnitAsync(Year);
        var reported = await _reporting.ListedUnitAsync(Year, key: false);
        await _reporting.SubmitAsync(reported, Year, ReportingClient.Report());
        // Reports due Wednesday 6 May 2026, the day after the Labour Day holiday (1-5 May): one working day before it is 30 April.
        await PutYearScheduleAsync();

        await RunAsync("2026-04-16"); // 11 working days before
        Assert.Empty(await RemindersOfAsync("unit", silent));
        await RunAsync("2026-04-17"); // 10: 20-24, 27-30 April and 6 May
        await RunAsync("2026-04-17"); // the timer again the same day
        await RunAsync("2026-04-18"); // Saturday: still 10 working days away, already reminded
        Assert.Equal(["reminder-report-2025-20260506-10"], Ids(await RemindersOfAsync("unit", silent)));
        await RunAsync("2026-04-27"); // 4
        Assert.Single(await RemindersOfAsync("unit", silent));
        await RunAsync("2026-04-28"); // 3
        await RunAsync("2026-04-29"); // 2
        Assert.Equal(["reminder-report-2025-20260506-10", "reminder-report-2025-20260506-3"], Ids(await RemindersOfAsync("unit", silent)));
        await RunAsync("2026-04-30"); // 1, across the five days of holiday
        await RunAsync("2026-05-04"); // a holiday: still 1, already reminded
        await RunAsync("2026-05-06"); // the day itself: no lead
        var reminders = await RemindersOfAsync("unit", silent);
        Assert.Equal(["reminder-report-2025-20260506-1", "reminder-report-2025-20260506-10", "reminder-report-2025-20260506-3"], Ids(reminders));

        var last = reminders.Single(n => n.GetProperty("id").GetString() == "reminder-report-2025-20260506-1");
        Assert.Equal("reminder.report", last.GetProperty("kind").GetString());
        Assert.Equal($"/api/units/{silent}/reports/2025", last.GetProperty("link").GetString());
        Assert.Contains("2026年5月6日", last.GetProperty("subjectZh").GetString());
        Assert.Contains("1个工作日", last.GetProperty("subjectZh").GetString());
        Assert.Contains("第二十一条", last.GetProperty("bodyZh").GetString());
        Assert.Contains("2026-05-06", last.GetProperty("subjectEn").GetString());
        Assert.Contains("Art. 21", last.GetProperty("bodyEn").GetString());

        // The unit that reported is told nothing.
        Assert.Empty(await RemindersOfAsync("unit", reported));
    }

    [Fact]
    public async Task ADistrict_IsRemindedOfItsOpenCheck_TheUnitOfItsCorrection_AndACaseParty_OfItsUnansweredRequest()
    {
        const string district = "海淀区";
        await NextYearsCalendarAsync();
        await _reporting.SetFactorsAsync(Year);
        var general = await _reporting.ListedUnitAsync(Year, key: false, district: district);
        await _reporting.SubmitAsync(general, Year, ReportingClient.Report());
        var bureau = app.Client("district", district);
        var queue = await bureau.GetFromJsonAsync<JsonElement>($"/api/districts/{district}/checks?kind=general-report&unit={general}", Ct);
        var check = Assert.Single(queue.GetProperty("checks").EnumerateArray());
        var checkId = check.GetProperty("checkId").GetString()!;
        var checkDue = D(check.GetProperty("dueOn").GetString()!);

        var party = await TestUnits.RegisterAsync(Regulator);
        var opened = await Regulator.PostAsJsonAsync("/api/cases", new { party = new { kind = "unit", id = party }, source = "manual", summary = "Meter records do not match the report." }, Ct);
        Assert.Equal(HttpStatusCode.Created, opened.StatusCode);
        var caseId = (await opened.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("caseId").GetString()!;
        var requestDue = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(14);
        var requested = await Regulator.PostAsJsonAsync($"/api/cases/{caseId}/requests", new { text = "Meter calibration records for 2025", dueOn = requestDue }, Ct);
        Assert.Equal(HttpStatusCode.OK, requested.StatusCode);

        // The district asks the unit to correct its report by a week after the check's own due day.
        var correctionDue = checkDue.AddDays(7);
        var asked = await bureau.PostAsJsonAsync($"/api/checks/{checkId}/correction-requests", new { text = "Report the natural gas as metered.", dueOn = correctionDue }, Ct);
        Assert.True(asked.IsSuccessStatusCode, await asked.Content.ReadAsStringAsync(Ct));

        var calendar = await app.Service<CalendarService>().GetAsync(Ct);
        await Reminders.RunAsync(calendar.AddWorkingDays(checkDue, -3), Ct);
        await Reminders.RunAsync(calendar.AddWorkingDays(requestDue, -1), Ct);
        await Reminders.RunAsync(calendar.AddWorkingDays(correctionDue, -1), Ct);

        var toBureau = await RemindersOfAsync("district", district);
        var checkReminder = Assert.Single(toBureau, n => n.GetProperty("id").GetString() == $"reminder-check-{checkId}-{checkDue:yyyyMMdd}-3");
        Assert.Equal("reminder.check", checkReminder.GetProperty("kind").GetString());
        Assert.Equal($"/api/checks/{checkId}", checkReminder.GetProperty("link").GetString());
        Assert.Contains("第二十三条", checkReminder.GetProperty("bodyZh").GetString());

        // (The two deadlines may be close enough for one run to find both at some lead: each is reminded of its own only.)
        var toParty = await RemindersOfAsync("unit", party);
        Assert.All(toParty, n => Assert.StartsWith($"reminder-case-{caseId}-request-1-", n.GetProperty("id").GetString()));
        var caseReminder = Assert.Single(toParty, n => n.GetProperty("id").GetString() == $"reminder-case-{caseId}-request-1-1");
        Assert.Equal("reminder.case-request", caseReminder.GetProperty("kind").GetString());
        Assert.Equal($"/api/cases/{caseId}", caseReminder.GetProperty("link").GetString());
        Assert.Contains("第三十三条", caseReminder.GetProperty("bodyZh").GetString());
        Assert.Contains(requestDue.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), caseReminder.GetProperty("subjectEn").GetString());

        var toUnit = Assert.Single(await RemindersOfAsync("unit", general));
        Assert.Equal($"reminder-correction-{checkId}-1-1", toUnit.GetProperty("id").GetString());
        Assert.Equal("reminder.correction", toUnit.GetProperty("kind").GetString());

        // The unit files the correction and the check is signed off: nobody hears more of either.
        await _reporting.SubmitAsync(general, Year, ReportingClient.Report(gas: 120));
        Assert.Equal(HttpStatusCode.OK, (await bureau.PostAsJsonAsync($"/api/checks/{checkId}/findings", new { none = true }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await bureau.PostAsJsonAsync($"/api/checks/{checkId}/sign-off", new { outcome = "passed" }, Ct)).StatusCode);
        var bureauBefore = Ids(await RemindersOfAsync("district", district)).Where(id => id.StartsWith($"reminder-check-{checkId}-", StringComparison.Ordinal)).ToList();
        for (var day = checkDue.AddDays(-16); day <= correctionDue; day = day.AddDays(1)) await Reminders.RunAsync(day, Ct);
        Assert.Equal(bureauBefore, Ids(await RemindersOfAsync("district", district)).Where(id => id.StartsWith($"reminder-check-{checkId}-", StringComparison.Ordinal)).ToList());
        Assert.Single(await RemindersOfAsync("unit", general));
    }

    [Fact]
    public async Task VerificationAndSurrender_RemindTheKeyUnitsThatHaveNotActed_AndTheEngagedBody()
    {
        var verification = new VerificationClient(app);
        await PutYearScheduleAsync();
        var engaged = await verification.ReportedKeyUnitAsync();
        var body = await verification.EligibleVerifierAsync();
        await verification.EngagementAsync(engaged.Uscc, body);
        var verified = await verification.ReportedKeyUnitAsync();
        var links = await verification.LinksAsync(verified.Uscc, body);
        Assert.Equal(HttpStatusCode.Created, (await VerificationClient.UploadAsync(links, "reportUploadUrl", VerificationClient.Pdf(), "application/pdf")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await VerificationClient.UploadAsync(links, "statementUploadUrl", VerificationClient.Statement(verified), "application/json")).StatusCode);
        Assert.Equal("accepted", (await verification.SettledAsync(verified.Uscc)).GetProperty("status").GetString());

        await RunAsync("2026-06-25"); // 3 working days before Tuesday 30 June: 26, 29 and 30 June
        Assert.Equal(["reminder-verification-2025-20260630-3"], Ids(await RemindersOfAsync("unit", engaged.Uscc, "reminder.verification")));
        Assert.Empty(await RemindersOfAsync("unit", verified.Uscc, "reminder.verification"));
        var toBody = Assert.Single(await RemindersOfAsync("verifier", body, "reminder.verification"));
        Assert.Equal($"reminder-verification-2025-{engaged.Uscc}-20260630-3", toBody.GetProperty("id").GetString());
        Assert.Equal($"/api/verifiers/{body}/engagements", toBody.GetProperty("link").GetString());
        Assert.Contains("第二十四条", toBody.GetProperty("bodyZh").GetString());

        // Surrender due Friday 27 November: the unit owing 1,200 t is reminded of them; the one owing nothing is not.
        await _reporting.ConfirmAsync(engaged.Uscc, Year, 1200);
        await _reporting.ConfirmAsync(verified.Uscc, Year, 0);
        await RunAsync("2026-11-26");
        var surrender = Assert.Single(await RemindersOfAsync("unit", engaged.Uscc, "reminder.surrender"));
        Assert.Equal("reminder-surrender-2025-20261127-1", surrender.GetProperty("id").GetString());
        Assert.Contains("尚差1200吨", surrender.GetProperty("bodyZh").GetString());
        Assert.Contains("第二十七条", surrender.GetProperty("bodyZh").GetString());
        Assert.Equal($"/api/units/{engaged.Uscc}/compliance/2025", surrender.GetProperty("link").GetString());
        Assert.Empty(await RemindersOfAsync("unit", verified.Uscc, "reminder.surrender"));
    }

    [Fact]
    public async Task TheDailyTimer_InvokedAsTheHostWould_SendsTodaysReminders()
    {
        await NextYearsCalendarAsync();
        var party = await TestUnits.RegisterAsync(Regulator);
        var opened = await Regulator.PostAsJsonAsync("/api/cases", new { party = new { kind = "unit", id = party }, source = "manual", summary = "Late monthly data." }, Ct);
        Assert.Equal(HttpStatusCode.Created, opened.StatusCode);
        var caseId = (await opened.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("caseId").GetString()!;
        var calendar = await app.Service<CalendarService>().GetAsync(Ct);
        var due = calendar.AddWorkingDays(BeijingTime.Today(TimeProvider.System), 3);
        Assert.Equal(HttpStatusCode.OK, (await Regulator.PostAsJsonAsync($"/api/cases/{caseId}/requests", new { text = "Gas meter readings", dueOn = due }, Ct)).StatusCode);

        var timer = new Dictionary<string, JsonElement> { ["timer"] = JsonSerializer.SerializeToElement(new { IsPastDue = false }) };
        var (succeeded, _) = await app.Service<LocalInvoker>().InvokeAsync(nameof(SendReminders), new InvocationRequest(timer, []), "daily-1", Ct);

        Assert.True(succeeded);
        Assert.Equal([$"reminder-case-{caseId}-request-1-3"], Ids(await RemindersOfAsync("unit", party)));
    }

    [Fact]
    public async Task TheObjectionWindow_CountsFromTheNoticesReceipt_AndSparesUnitsThatObjected_OrHaveNotReceivedIt()
    {
        const int year = 2026;
        var (waiting, objected, unread) = (TestUnits.NewUscc(), TestUnits.NewUscc(), TestUnits.NewUscc());
        await PutScheduleAsync(year, preAllocation: "2026-03-02", reportsDue: "2027-04-30", verificationDue: "2027-06-30", surrenderDue: "2027-11-26");
        var issued = D("2026-03-02");
        await app.Service<AllocationStore>().PutManyAsync([.. new[] { waiting, objected, unread }.Select(u =>
            new UnitAllocation(year, u, "cement", "historical-total", new Tonnes(10_000), new Tonnes(7_000), issued, null, PreAllocatedOn: issued))], Ct);
        // Delivered by email on Tuesday 3 March: the window closes 7 working days later, on Thursday 12 March (Art. 15).
        var delivered = new DateTimeOffset(2026, 3, 3, 10, 0, 0, TimeSpan.FromHours(8));
        Notice Result(string unit, DateTimeOffset? at) => new("allocation-pre-2026", $"unit:{unit}", "allocation.pre", "配额预发结果", "…", "Pre-allocation result", "…", null,
            new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.FromHours(8)), at is null ? "pending" : "sent", DeliveredAt: at);
        await app.Service<NoticeStore>().AddNewAsync([Result(waiting, delivered), Result(objected, delivered), Result(unread, null)], Ct);
        Assert.True(await app.Service<ObjectionStore>().TryAddAsync(new Objection(Guid.NewGuid().ToString("N"), year, objected, "朝阳区", "The basis leaves out 2024.",
            D("2026-03-03"), D("2026-03-05"), D("2026-03-19"), "open"), Ct));

        await RunAsync("2026-03-06"); // 4 working days before
        Assert.Empty(await RemindersOfAsync("unit", waiting));
        await RunAsync("2026-03-09"); // 3: 10, 11, 12 March
        await RunAsync("2026-03-11"); // 1
        var reminders = await RemindersOfAsync("unit", waiting);
        Assert.Equal(["reminder-objection-pre-2026-1", "reminder-objection-pre-2026-3"], Ids(reminders));
        Assert.Contains("2026年3月12日", reminders[0].GetProperty("subjectZh").GetString());
        Assert.Contains("第十五条", reminders[0].GetProperty("bodyZh").GetString());
        Assert.Empty(await RemindersOfAsync("unit", objected));
        Assert.Empty(await RemindersOfAsync("unit", unread));
    }
}
