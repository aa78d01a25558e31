using BeijingEts.Functions.Tests.Reporting;
using BeijingEts.Functions.Tests.Verification;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace BeijingEts.Functions.Tests.Supervision;

public sealed class DistrictCheckFixture : EtsAppFixture;

/// <summary>An app whose clock the test moves on (upload links are signed on it, so it starts at the real time).</summary>
public sealed class DistrictCheckClockFixture : EtsAppFixture
{
    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    protected override void ConfigureServices(IServiceCollection services) => services.AddSingleton<TimeProvider>(Clock);
}

/// <summary>
/// Art. 9 para 1, 22, 23 para 2: a district bureau's work queue of checks, opened as their input arrives, with findings,
/// correction requests answered by the unit's next revision, and a sign-off the regulator sees.
/// </summary>
public sealed class DistrictCheckTests(DistrictCheckFixture app) : IClassFixture<DistrictCheckFixture>
{
    private const string District = "朝阳区";
    private readonly ReportingClient _reporting = new(app);
    private readonly VerificationClient _verification = new(app);
    private static int Year => ReportingClient.CurrentYear - 1;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private HttpClient Bureau => app.Client("district", District);

    /// <summary>A plan that names only raw coal, and measures its net calorific value in a laboratory.</summary>
    private static object Plan => new
    {
        sources = new[] { new { name = "1# kiln line", fuels = new[] { "raw-coal" } } },
        measuredParameters = new[]
        {
            new { parameter = "net-calorific-value", fuel = "raw-coal", method = "GB/T 213", instrument = "laboratory", laboratory = "北京某检测中心", frequency = "monthly" },
        },
        dataFlow = "weighbridge -> daily log -> monthly ledger",
        staff = new[] { new { name = "王芳", responsibility = "accounting" }, new { name = "李强", responsibility = "reporting" } },
    };

    private static object Month(decimal gas, decimal? ncv = null) => new
    {
        fuels = new object[]
        {
            new { fuel = "raw-coal", quantity = 100m, unit = "t", ncvGJPerUnit = ncv },
            new { fuel = "natural-gas", quantity = gas, unit = "10^4 Nm3", ncvGJPerUnit = (decimal?)null },
        },
        supportingMaterials = new[] { "weighbridge slips" },
    };

    private async Task<string> KeyUnitWithApprovedPlanAsync()
    {
        await _reporting.SetFactorsAsync(Year);
        var uscc = await _reporting.ListedUnitAsync(Year);
        Assert.Equal(HttpStatusCode.Created, (await app.Client("unit", uscc).PutAsJsonAsync($"/api/units/{uscc}/quality-plans/{Year}", Plan, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _reporting.Regulator.PostAsJsonAsync($"/api/units/{uscc}/quality-plans/{Year}/decision",
            new { version = 1, decision = "approved" }, Ct)).StatusCode);
        return uscc;
    }

    private async Task<JsonElement> CheckAsync(string uscc, string kind, HttpClient? client = null)
    {
        var queue = await (client ?? Bureau).GetFromJsonAsync<JsonElement>($"/api/districts/{District}/checks?kind={kind}&unit={uscc}", Ct);
        return Assert.Single(queue.GetProperty("checks").EnumerateArray());
    }

    private Task<HttpResponseMessage> PostAsync(string checkId, string action, object body, HttpClient? client = null) =>
        (client ?? Bureau).PostAsJsonAsync($"/api/checks/{checkId}/{action}", body, Ct);

    private static IReadOnlyList<string> Texts(JsonElement check, string source) =>
        check.GetProperty("findings").EnumerateArray().Where(f => f.GetProperty("source").GetString() == source).Select(f => f.GetProperty("text").GetString()!).ToList();

    [Fact]
    public async Task AMonthIsChecked_AgainstThePlan_CorrectedByTheUnit_AndSignedOff()
    {
        var uscc = await KeyUnitWithApprovedPlanAsync();
        Assert.Equal(HttpStatusCode.Created, (await app.Client("unit", uscc).PutAsJsonAsync($"/api/units/{uscc}/monthly/{Year}-03", Month(gas: 5), Ct)).StatusCode);

        var check = await CheckAsync(uscc, "monthly-data");
        var id = check.GetProperty("checkId").GetString()!;
        Assert.Equal(("open", Year, 3, 1), (check.GetProperty("status").GetString(), check.GetProperty("year").GetInt32(), check.GetProperty("month").GetInt32(),
            check.GetProperty("revision").GetInt32()));
        var today = DateOnly.FromDateTime(DateTimeOffset.UtcNow.ToOffset(TimeSpan.FromHours(8)).DateTime);
        var dueOn = DateOnly.Parse(check.GetProperty("dueOn").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(dueOn.DayNumber - today.DayNumber, 14, 30); // 10 working days
        // The plan names only raw coal and measures its calorific value in a laboratory: three departures, none refused.
        var planFindings = Texts(check, "quality-plan");
        Assert.Equal(3, planFindings.Count);
        Assert.Contains(planFindings, t => t.Contains("'natural-gas', which no source", StringComparison.Ordinal));
        Assert.Contains(planFindings, t => t.Contains("default net-calorific-value of 'raw-coal'", StringComparison.Ordinal));
        Assert.Contains(planFindings, t => t.Contains("No laboratory test report of net-calorific-value of 'raw-coal'", StringComparison.Ordinal));

        Assert.Equal(HttpStatusCode.OK, (await PostAsync(id, "findings", new { text = "Gas invoices do not match the meter export." })).StatusCode);
        var asked = await PostAsync(id, "correction-requests", new { text = "Report the natural gas as metered: 4.2." });
        Assert.Equal(HttpStatusCode.OK, asked.StatusCode);
        // The unit is told, in its inbox, what to correct and by when.
        var told = (await app.Client("unit", uscc).NoticeAsync($"check-{id}-correction-1"))!.Value;
        Assert.Equal("check.correction-requested", told.GetProperty("kind").GetString());
        Assert.Contains("Report the natural gas as metered: 4.2.", told.GetProperty("bodyZh").GetString());
        var early = await PostAsync(id, "sign-off", new { outcome = "passed" });
        Assert.Equal(HttpStatusCode.Conflict, early.StatusCode);
        Assert.Contains("awaits the unit's new revision", await early.Content.ReadAsStringAsync(Ct));

        // The unit sees the request and answers it with a new revision, measuring the coal as its plan says.
        var mine = await app.Client("unit", uscc).GetFromJsonAsync<JsonElement>($"/api/units/{uscc}/checks?year={Year}", Ct);
        Assert.Equal("Report the natural gas as metered: 4.2.", mine[0].GetProperty("correctionRequests")[0].GetProperty("text").GetString());
        Assert.Equal(HttpStatusCode.Created, (await app.Client("unit", uscc).PutAsJsonAsync($"/api/units/{uscc}/monthly/{Year}-03", Month(gas: 4.2m, ncv: 21.1m), Ct)).StatusCode);

        check = await CheckAsync(uscc, "monthly-data");
        Assert.Equal(2, check.GetProperty("correctionRequests")[0].GetProperty("answeredByRevision").GetInt32());
        Assert.Equal(2, check.GetProperty("revision").GetInt32());
        var second = check.GetProperty("findings").EnumerateArray().Where(f => f.GetProperty("revision").GetInt32() == 2).Select(f => f.GetProperty("text").GetString()!).ToList();
        Assert.Equal(2, second.Count); // the gas is still not in the plan, and no test report covers March; the calorific value is now measured
        Assert.DoesNotContain(second, t => t.Contains("default", StringComparison.Ordinal));
        Assert.Equal(2, Texts(check, "quality-plan").Count); // the round's platform findings are the latest revision's, not every revision's

        var signed = await PostAsync(id, "sign-off", new { outcome = "issues-found", note = "Gas boiler to be added to the plan." });
        Assert.Equal(HttpStatusCode.OK, signed.StatusCode);
        var closed = await signed.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(("closed", "issues-found"), (closed.GetProperty("status").GetString(), closed.GetProperty("outcome").GetString()));
        Assert.Equal("check.signed-off", (await app.Client("unit", uscc).NoticeAsync($"check-{id}-signed-off-1"))!.Value.GetProperty("kind").GetString());
        var open = await Bureau.GetFromJsonAsync<JsonElement>($"/api/districts/{District}/checks?status=open&unit={uscc}", Ct);
        Assert.Empty(open.GetProperty("checks").EnumerateArray());

        // A revision after the sign-off reopens the month for another round.
        Assert.Equal(HttpStatusCode.Created, (await app.Client("unit", uscc).PutAsJsonAsync($"/api/units/{uscc}/monthly/{Year}-03", Month(gas: 4.3m, ncv: 21.1m), Ct)).StatusCode);
        check = await CheckAsync(uscc, "monthly-data");
        Assert.Equal(("open", 2), (check.GetProperty("status").GetString(), check.GetProperty("round").GetInt32()));
        var audit = await _reporting.Regulator.GetFromJsonAsync<JsonElement>($"/api/audit?subject=checks/{id}", Ct);
        var actions = audit.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("action").GetString()).ToHashSet();
        Assert.Superset(new HashSet<string?> { "check.opened", "check.finding-recorded", "check.correction-requested", "check.revision-received", "check.signed-off", "check.reopened" }, actions);
    }

    [Fact]
    public async Task BadInput_AndOtherDistrictsOrUnits_AreRefused_AndNothingIsWritten()
    {
        var uscc = await KeyUnitWithApprovedPlanAsync();
        var other = await _reporting.ListedUnitAsync(Year);
        Assert.Equal(HttpStatusCode.Created, (await app.Client("unit", uscc).PutAsJsonAsync($"/api/units/{uscc}/monthly/{Year}-05", Month(gas: 5), Ct)).StatusCode);
        var id = (await CheckAsync(uscc, "monthly-data")).GetProperty("checkId").GetString()!;

        var unsigned = await PostAsync(id, "sign-off", new { outcome = "passed" });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, unsigned.StatusCode);
        Assert.Contains("none: true", await unsigned.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(id, "findings", new { text = "x", none = true })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(id, "findings", new { text = " " })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(id, "sign-off", new { outcome = "fine" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(id, "correction-requests", new { text = "fix", dueOn = "2000-01-01" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _reporting.Regulator.GetAsync("/api/districts/火星区/checks", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Bureau.GetAsync($"/api/districts/{District}/checks?kind=everything", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Bureau.GetAsync("/api/checks/D03-monthly-data-2025-03-nobody", Ct)).StatusCode);

        // Another district neither reads this district's queue nor works on its checks; another unit does not learn the check exists.
        var haidian = app.Client("district", "海淀区");
        Assert.Equal(HttpStatusCode.Forbidden, (await haidian.GetAsync($"/api/districts/{District}/checks", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(id, "findings", new { none = true }, haidian)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await haidian.GetAsync($"/api/checks/{id}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client("unit", other).GetAsync($"/api/checks/{id}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.Client("unit", uscc).GetAsync($"/api/checks/{id}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(id, "findings", new { none = true }, app.Client("unit", uscc))).StatusCode);

        var check = await CheckAsync(uscc, "monthly-data");
        Assert.Equal(("open", 0), (check.GetProperty("status").GetString(), Texts(check, "district").Count));
        Assert.Empty(check.GetProperty("correctionRequests").EnumerateArray());

        // "None" is a finding: with it the check may be signed off, though the platform's findings need a word on why it passes.
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(id, "findings", new { none = true })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(id, "sign-off", new { outcome = "passed" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(id, "sign-off", new { outcome = "passed", note = "Gas use is below 1% of emissions; plan update requested." })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await PostAsync(id, "findings", new { text = "late" })).StatusCode);
    }

    /// <summary>A key unit's report, verified by a body and accepted, and the preliminary check that opens just after (as the district sees it).</summary>
    private async Task<(VerificationClient.Reported Report, JsonElement Check)> AcceptedWithItsCheckAsync()
    {
        var report = await _verification.ReportedKeyUnitAsync();
        var verifier = await _verification.EligibleVerifierAsync();
        var links = await _verification.LinksAsync(report.Uscc, verifier);
        Assert.Equal(HttpStatusCode.Created, (await VerificationClient.UploadAsync(links, "reportUploadUrl", VerificationClient.Pdf(), "application/pdf")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await VerificationClient.UploadAsync(links, "statementUploadUrl", VerificationClient.Statement(report), "application/json")).StatusCode);
        Assert.Equal("accepted", (await _verification.SettledAsync(report.Uscc)).GetProperty("status").GetString());
        JsonElement check = default;
        await Eventually.HoldsAsync(async () =>
        {
            var queue = await Bureau.GetFromJsonAsync<JsonElement>($"/api/districts/{District}/checks?kind=verification&unit={report.Uscc}", Ct);
            check = queue.GetProperty("checks").EnumerateArray().FirstOrDefault();
            return check.ValueKind == JsonValueKind.Object;
        }, "the preliminary check opens");
        return (report, check);
    }

    [Fact]
    public async Task AnAcceptedVerification_OpensAPreliminaryCheck_WhoseStateTheConfirmationRecords_AndALaterFindingAsksForReview()
    {
        var (report, check) = await AcceptedWithItsCheckAsync();
        var id = check.GetProperty("checkId").GetString()!;
        Assert.Equal(report.Version, check.GetProperty("revision").GetInt32());
        Assert.Contains(Texts(check, "quality-plan"), t => t.Contains("No approved", StringComparison.Ordinal));

        // Confirmed before the district signed off: allowed, and recorded as such.
        var confirmed = await _reporting.Regulator.PostAsJsonAsync($"/api/units/{report.Uscc}/reports/{Year}/confirmation",
            new { confirmedEmissions = report.Total, basis = "verified" }, Ct);
        Assert.Equal(HttpStatusCode.OK, confirmed.StatusCode);
        Assert.Equal("pending", (await confirmed.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("districtCheck").GetString());

        // A finding made after it reopens the confirmation for review: a notice, the figure unchanged.
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(id, "findings", new { text = "The statement's boiler 2 calibration gap was not followed up." })).StatusCode);
        var after = await _reporting.Regulator.GetFromJsonAsync<JsonElement>($"/api/units/{report.Uscc}/reports/{Year}/confirmation", Ct);
        Assert.Equal(report.Total, after.GetProperty("confirmedEmissionsT").GetInt64());
        Assert.Contains("boiler 2 calibration", after.GetProperty("reviewRequested").GetString());
        var audit = await _reporting.Regulator.GetFromJsonAsync<JsonElement>($"/api/audit?subject=units/{report.Uscc}/reports/{Year}", Ct);
        Assert.Contains(audit.GetProperty("entries").EnumerateArray(), e => e.GetProperty("action").GetString() == "confirmation.review-requested");

        Assert.Equal(HttpStatusCode.OK, (await PostAsync(id, "sign-off", new { outcome = "issues-found" })).StatusCode);
        var again = await _reporting.Regulator.PostAsJsonAsync($"/api/units/{report.Uscc}/reports/{Year}/confirmation",
            new { confirmedEmissions = report.Total, basis = "verified" }, Ct);
        var recorded = await again.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("issues-found", recorded.GetProperty("districtCheck").GetString());
        Assert.Equal(JsonValueKind.Null, recorded.GetProperty("reviewRequested").ValueKind);
    }

    [Fact]
    public async Task ACorrectionAskedOnAVerificationCheck_IsAnsweredByTheUnitsNextReportVersion_FiledOnAnyInstance()
    {
        var (report, check) = await AcceptedWithItsCheckAsync();
        var id = check.GetProperty("checkId").GetString();
        // A version filed before the request answers nothing.
        await _reporting.SubmitAsync(report.Uscc, Year, ReportingClient.Report(coal: 900));
        Assert.Empty((await CheckAsync(report.Uscc, "verification")).GetProperty("correctionRequests").EnumerateArray());

        // Asked through another instance: the one the unit files with learns of it from the report's head.
        var (other, address) = await app.StartAnotherInstanceAsync();
        try
        {
            Assert.Equal(HttpStatusCode.OK, (await PostAsync(id!, "correction-requests", new { text = "Report boiler 2's coal as weighed." },
                app.Client(address, "district", District))).StatusCode);
        }
        finally
        {
            await other.StopAsync(CancellationToken.None);
            await other.DisposeAsync();
        }
        var next = await _reporting.SubmitAsync(report.Uscc, Year, ReportingClient.Report(coal: 950));

        var asked = Assert.Single((await CheckAsync(report.Uscc, "verification")).GetProperty("correctionRequests").EnumerateArray());
        Assert.Equal(next.GetProperty("version").GetInt32(), asked.GetProperty("answeredByRevision").GetInt32());
    }
}

/// <summary>Checks opened by a general report and a published list; what the regulator sees of them, on time and overdue.</summary>
public sealed class DistrictCheckDueTests(DistrictCheckClockFixture app) : IClassFixture<DistrictCheckClockFixture>
{
    private const string District = "朝阳区";
    private readonly ReportingClient _reporting = new(app);
    private static int Year => ReportingClient.CurrentYear - 1;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private HttpClient Bureau => app.Client("district", District);

    private Task<HttpResponseMessage> PostAsync(string checkId, string action, object body) => Bureau.PostAsJsonAsync($"/api/checks/{checkId}/{action}", body, Ct);

    [Fact]
    public async Task AGeneralReport_AndAPublishedList_OpenChecks_TheRegulatorSeesWhoConfirmed_AndWhatIsOverdue()
    {
        await _reporting.SetFactorsAsync(Year);
        var general = await _reporting.ListedUnitAsync(Year, key: false);
        await _reporting.SubmitAsync(general, Year, ReportingClient.Report());
        var queue = await Bureau.GetFromJsonAsync<JsonElement>($"/api/districts/{District}/checks?kind=general-report&unit={general}", Ct);
        var check = Assert.Single(queue.GetProperty("checks").EnumerateArray());
        Assert.Equal(1, check.GetProperty("revision").GetInt32());

        // The latest list's changes, for this district: every unit joined (there is no list of the year before in this app).
        var lists = await _reporting.Regulator.GetFromJsonAsync<JsonElement>($"/api/lists/{Year}/district-checks", Ct);
        var mine = lists.GetProperty("byDistrict").EnumerateArray().Single(d => d.GetProperty("district").GetString() == District);
        Assert.Equal("open", mine.GetProperty("status").GetString());
        var listCheck = await Bureau.GetFromJsonAsync<JsonElement>($"/api/checks/{mine.GetProperty("checkId").GetString()}", Ct);
        Assert.Contains(listCheck.GetProperty("changes").EnumerateArray(), c => c.GetProperty("uscc").GetString() == general && c.GetProperty("change").GetString() == "joined");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await PostAsync(mine.GetProperty("checkId").GetString()!, "correction-requests", new { text = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(mine.GetProperty("checkId").GetString()!, "findings", new { none = true })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(mine.GetProperty("checkId").GetString()!, "sign-off", new { outcome = "passed" })).StatusCode);
        lists = await _reporting.Regulator.GetFromJsonAsync<JsonElement>($"/api/lists/{Year}/district-checks", Ct);
        Assert.Equal("passed", lists.GetProperty("byDistrict").EnumerateArray().Single(d => d.GetProperty("district").GetString() == District).GetProperty("outcome").GetString());

        // Three weeks on, the general report's check is past its due day: the regulator sees it among the overdue.
        Assert.DoesNotContain((await _reporting.Regulator.GetFromJsonAsync<JsonElement>("/api/checks?overdue=true&kind=general-report", Ct)).EnumerateArray(),
            c => c.GetProperty("unit").GetString() == general);
        app.Clock.Advance(TimeSpan.FromDays(21));
        var overdue = await _reporting.Regulator.GetFromJsonAsync<JsonElement>("/api/checks?overdue=true&kind=general-report", Ct);
        Assert.Contains(overdue.EnumerateArray(), c => c.GetProperty("unit").GetString() == general && c.GetProperty("overdue").GetBoolean());
        Assert.Equal(HttpStatusCode.Forbidden, (await Bureau.GetAsync("/api/checks?overdue=true", Ct)).StatusCode);
    }

    [Fact]
    public async Task AListOfHundredsOfUnits_PutsEveryChangeToItsDistrict()
    {
        var csv = new System.Text.StringBuilder("uscc,name,district,industry,energyConsumptionTce,directEmissionsT,indirectEmissionsT\n");
        var units = Enumerable.Range(0, 400).Select(_ => Lists.TestUnits.NewUscc()).ToList();
        foreach (var uscc in units) csv.Append($"{uscc},北京市海淀区某某有限责任公司第{uscc[^6..]}分公司,海淀区,cement,5000,9000,0\n");
        var import = await _reporting.Regulator.PostAsync("/api/lists/2019/statistics", new StringContent(csv.ToString(), System.Text.Encoding.UTF8, "text/csv"), Ct);
        Assert.True(import.IsSuccessStatusCode, await import.Content.ReadAsStringAsync(Ct));
        var published = await _reporting.Regulator.PostAsync("/api/lists/2019/publish", null, Ct);
        Assert.True(published.IsSuccessStatusCode, await published.Content.ReadAsStringAsync(Ct));

        var lists = await _reporting.Regulator.GetFromJsonAsync<JsonElement>("/api/lists/2019/district-checks", Ct);
        var haidian = lists.GetProperty("byDistrict").EnumerateArray().Single(d => d.GetProperty("district").GetString() == "海淀区");
        Assert.Equal(400, haidian.GetProperty("changes").GetInt32());
        var check = await app.Client("district", "海淀区").GetFromJsonAsync<JsonElement>($"/api/checks/{haidian.GetProperty("checkId").GetString()}", Ct);
        Assert.Equal(units.Order(StringComparer.Ordinal), check.GetProperty("changes").EnumerateArray().Select(c => c.GetProperty("uscc").GetString()!).Order(StringComparer.Ordinal));
        Assert.All(check.GetProperty("changes").EnumerateArray(), c => Assert.Equal("joined", c.GetProperty("change").GetString()));
    }
}
