using BeijingEts.Functions.Tests.Ledger;
using BeijingEts.Functions.Tests.Reporting;
using BeijingEts.Functions.Tests.Verification;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace BeijingEts.Functions.Tests.Supervision;

public sealed class CaseFixture : FastQueueFixture;

/// <summary>
/// Art. 23, 25, 29, 30, 33: enforcement cases: who opens, proposes and sees them, document requests answered through
/// upload links, inspections, and a decision whose deduction the next verified allocation takes.
/// </summary>
public sealed class CaseTests(CaseFixture app) : IClassFixture<CaseFixture>
{
    private readonly LedgerClient _ledger = new(app);
    private readonly ReportingClient _reporting = new(app);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private HttpClient Regulator => _ledger.Regulator;

    private async Task<JsonElement> OpenAsync(HttpClient client, object body, HttpStatusCode expected = HttpStatusCode.Created)
    {
        var response = await client.PostAsJsonAsync("/api/cases", body, Ct);
        Assert.True(response.StatusCode == expected, await response.Content.ReadAsStringAsync(Ct));
        return expected == HttpStatusCode.Created ? await response.Content.ReadFromJsonAsync<JsonElement>(Ct) : default;
    }

    private Task<HttpResponseMessage> ActAsync(string caseId, string action, object? body = null, HttpClient? client = null) =>
        (client ?? Regulator).PostAsJsonAsync($"/api/cases/{caseId}/{action}", body ?? new { }, Ct);

    [Fact]
    public async Task AShortfallCase_IsDecidedWithADeduction_ThatTheNextVerifiedAllocationTakes()
    {
        var uscc = await Lists.TestUnits.RegisterAsync(Regulator, industry: "cement");
        foreach (var year in new[] { 2022, 2023, 2024 })
        {
            Assert.True((await Regulator.PutAsJsonAsync($"/api/units/{uscc}/statistics/{year}", new { energyConsumptionTce = 5000, directEmissionsT = 10_000, indirectEmissionsT = 0 }, Ct)).IsSuccessStatusCode);
            Assert.True((await Regulator.PostAsync($"/api/lists/{year}/publish", null, Ct)).IsSuccessStatusCode);
        }
        // 2023: 1,000 t confirmed, 600 t held and surrendered, and the deadline passed: 400 t short.
        await _reporting.SetFactorsAsync(2023);
        await _reporting.SubmitAsync(uscc, 2023, ReportingClient.Report());
        await _reporting.ConfirmAsync(uscc, 2023, 1000);
        await _ledger.SettleAsync(Regulator, "issuance", null, "issuance", 600, vintage: 2023);
        await _ledger.SettleAsync(Regulator, "allocation", "issuance", uscc, 600, vintage: 2023);
        var surrendered = await app.Client("unit", uscc).PostAsJsonAsync($"/api/units/{uscc}/surrenders/2023",
            new { transactionId = "part", items = new[] { new { product = "BEA", vintage = 2023, quantity = 600L } } }, Ct);
        Assert.Equal(HttpStatusCode.Accepted, surrendered.StatusCode);
        await Eventually.HoldsAsync(async () => (await Regulator.GetFromJsonAsync<JsonElement>($"/api/units/{uscc}/compliance/2023", Ct)).GetProperty("surrenderedAllowancesT").GetInt64() == 600,
            "the surrender settles");
        var past = DateTimeOffset.UtcNow.AddDays(-1);
        Assert.Equal(HttpStatusCode.OK, (await Regulator.PutAsJsonAsync("/api/cycles/2023/schedule", new
        {
            listPublication = past.AddDays(-300), preAllocation = past.AddDays(-290), reportsDue = past.AddDays(-200), verificationDue = past.AddDays(-150),
            confirmationDue = past.AddDays(-100), verifiedAllocation = past.AddDays(-90), surrenderDue = past, close = past.AddDays(10),
        }, Ct)).StatusCode);

        var opened = await OpenAsync(Regulator, new { party = new { kind = "unit", id = uscc }, source = "manual", year = 2023, summary = "400 t short of the 2023 obligation." });
        var id = opened.GetProperty("caseId").GetString()!;
        var tooMuch = await ActAsync(id, "decision", new { outcome = "penalty", legalBasis = "Art. 29 of the Measures", penalty = "fine as the applicable rules set", deductT = 401 });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, tooMuch.StatusCode);
        Assert.Contains("shortfall is 400 t", await tooMuch.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.BadRequest, (await ActAsync(id, "decision", new { outcome = "penalty", legalBasis = " ", penalty = "fine", deductT = 400 })).StatusCode);
        var decided = await ActAsync(id, "decision", new { outcome = "penalty", legalBasis = "Art. 29 of the Measures", penalty = "fine as the applicable rules set", deductT = 400 });
        Assert.Equal(HttpStatusCode.OK, decided.StatusCode);
        var decision = (await decided.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("decision");
        Assert.Equal((400, 2024), (decision.GetProperty("deductT").GetInt64(), decision.GetProperty("deductFromYear").GetInt32()));
        Assert.Equal(HttpStatusCode.OK, (await ActAsync(id, "close")).StatusCode);
        // The shortfall is deducted once: another case about it cannot take more.
        var second = (await OpenAsync(Regulator, new { party = new { kind = "unit", id = uscc }, source = "manual", year = 2023, summary = "The same shortfall, again." })).GetProperty("caseId").GetString()!;
        var twice = await ActAsync(second, "decision", new { outcome = "penalty", legalBasis = "Art. 29", penalty = "fine", deductT = 1 });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, twice.StatusCode);
        Assert.Contains("400 t of it deducted by other cases", await twice.Content.ReadAsStringAsync(Ct));

        // 2024: on the historical total, 70% pre-allocated; the verified allocation tops up the rest less the 400 t deducted.
        await app.ApproveAsync(await Regulator.PutAsJsonAsync("/api/allocation/2024/plan", new
        {
            cap = 10_000_000, reserveRatio = 0.05m, preAllocationRatio = 0.7m,
            methods = new Dictionary<string, object> { ["cement"] = new { method = "historical-total", baseYears = new[] { 2022, 2023 }, controlFactor = 1.0m } },
        }, Ct));
        Assert.Equal(HttpStatusCode.OK, (await Regulator.PostAsync("/api/allocation/2024/pre-allocation", null, Ct)).StatusCode);
        var preAllocated = (await app.Client("unit", uscc).GetFromJsonAsync<JsonElement>($"/api/allocation/2024/units/{uscc}", Ct)).GetProperty("preAllocated").GetInt64();
        Assert.True(preAllocated > 400);
        await Eventually.HoldsAsync(async () => await _ledger.HoldingAsync(uscc, vintage: 2024) == preAllocated, "the pre-allocation arrives");
        await _reporting.SetFactorsAsync(2024);
        await _reporting.SubmitAsync(uscc, 2024, ReportingClient.Report());
        await _reporting.ConfirmAsync(uscc, 2024, 9_000);
        Assert.Equal(HttpStatusCode.OK, (await Regulator.PostAsync("/api/allocation/2024/verified-allocation", null, Ct)).StatusCode);

        var record = await app.Client("unit", uscc).GetFromJsonAsync<JsonElement>($"/api/allocation/2024/units/{uscc}", Ct);
        var verified = record.GetProperty("verified").GetInt64();
        Assert.Equal((400, verified - preAllocated - 400), (record.GetProperty("deductedByDecisions").GetInt64(), record.GetProperty("topUp").GetInt64()));
        await Eventually.HoldsAsync(async () => await _ledger.HoldingAsync(uscc, vintage: 2024) == verified - 400, "the top-up less the deduction arrives");
        Assert.Equal(id, record.GetProperty("deductionDecisions")[0].GetString());

        // Reopened and decided again, the deduction the 2024 allocation took stands: it is not moved to 2025 and taken twice.
        Assert.Equal(HttpStatusCode.OK, (await ActAsync(id, "reopen", new { reason = "The legal basis cites the wrong paragraph." })).StatusCode);
        var changed = await ActAsync(id, "decision", new { outcome = "penalty", legalBasis = "Art. 29 para 1", penalty = "fine as the rules set", deductT = 300 });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, changed.StatusCode);
        Assert.Contains("has taken this case's 400 t deduction", await changed.Content.ReadAsStringAsync(Ct));
        var again = await ActAsync(id, "decision", new { outcome = "penalty", legalBasis = "Art. 29 para 1", penalty = "fine as the rules set", deductT = 400 });
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(2024, (await again.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("decision").GetProperty("deductFromYear").GetInt32());
        Assert.Empty(await app.Service<BeijingEts.Functions.Supervision.CaseStore>().DeductionsAsync(2025, Ct));
        await _ledger.AssertNoDriftAsync();
    }

    [Fact]
    public async Task APartySeesOnlyItsOwnCases_ADistrictProposesForItsUnits_AndAVerifierReportsOnlyWhatItVerifies()
    {
        var unit = await Lists.TestUnits.RegisterAsync(Regulator, district: "朝阳区");
        var other = await Lists.TestUnits.RegisterAsync(Regulator, district: "海淀区");
        var opened = await OpenAsync(Regulator, new { party = new { kind = "unit", id = unit }, source = "surveillance-flag", sourceRef = "alert 17", summary = "Wash trades with a related party." });
        var id = opened.GetProperty("caseId").GetString()!;
        Assert.Equal("open", opened.GetProperty("status").GetString());

        Assert.Equal(HttpStatusCode.OK, (await app.Client("unit", unit).GetAsync($"/api/cases/{id}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.Client("district", "朝阳区").GetAsync($"/api/cases/{id}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client("unit", other).GetAsync($"/api/cases/{id}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client("district", "海淀区").GetAsync($"/api/cases/{id}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client("participant", unit).GetAsync($"/api/cases/{id}", Ct)).StatusCode);
        Assert.DoesNotContain((await app.Client("unit", other).GetFromJsonAsync<JsonElement>("/api/cases", Ct)).EnumerateArray(), c => c.GetProperty("caseId").GetString() == id);
        var mine = await app.Client("unit", unit).GetFromJsonAsync<JsonElement>("/api/cases", Ct);
        Assert.Equal(id, Assert.Single(mine.EnumerateArray()).GetProperty("caseId").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, (await ActAsync(id, "decision", new { outcome = "no-violation", legalBasis = "x" }, app.Client("district", "朝阳区"))).StatusCode);

        // A district proposes about its own units only; the regulator accepts the proposal to open it.
        var proposed = await OpenAsync(app.Client("district", "朝阳区"), new { party = new { kind = "unit", id = unit }, source = "district-finding", sourceRef = "D03-monthly-data-2025-03", summary = "Monthly data repeatedly late." });
        Assert.Equal("proposed", proposed.GetProperty("status").GetString());
        await OpenAsync(app.Client("district", "朝阳区"), new { party = new { kind = "unit", id = other }, source = "district-finding", summary = "Not ours." }, HttpStatusCode.Forbidden);
        var accepted = await ActAsync(proposed.GetProperty("caseId").GetString()!, "accept");
        Assert.Equal("open", (await accepted.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("status").GetString());

        // A verification body reports an Art. 9 situation only about a unit whose report it verifies.
        var verification = new VerificationClient(app);
        var reported = await verification.ReportedKeyUnitAsync();
        var body = await verification.EligibleVerifierAsync();
        var report = new { party = new { kind = "unit", id = reported.Uscc }, source = "verifier-report", year = VerificationClient.Year, summary = "The unit merged a subsidiary without notice (Art. 9)." };
        await OpenAsync(app.Client("verifier", body), report, HttpStatusCode.Forbidden);
        await verification.EngagementAsync(reported.Uscc, body);
        var fromVerifier = await OpenAsync(app.Client("verifier", body), report);
        Assert.Equal("proposed", fromVerifier.GetProperty("status").GetString());
        // The body reported it but is not its party: it does not see the case.
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client("verifier", body).GetAsync($"/api/cases/{fromVerifier.GetProperty("caseId").GetString()}", Ct)).StatusCode);

        await OpenAsync(Regulator, new { party = new { kind = "unit", id = unit }, source = "non-compliance", year = 2025, summary = "by hand" }, HttpStatusCode.UnprocessableEntity);
        await OpenAsync(Regulator, new { party = new { kind = "bank", id = unit }, source = "manual", summary = "x" }, HttpStatusCode.BadRequest);
        await OpenAsync(Regulator, new { party = new { kind = "verifier", id = other }, source = "manual", summary = "x" }, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task ARequestIsAnsweredThroughALink_AnInspectionRecorded_AndClosingNeedsADecision_ReopeningIsAudited()
    {
        var unit = await Lists.TestUnits.RegisterAsync(Regulator, district: "朝阳区");
        var id = (await OpenAsync(Regulator, new { party = new { kind = "unit", id = unit }, source = "flagged-verification", sourceRef = "units/x/reports/2025", summary = "Verified figure 30% under the report." }))
            .GetProperty("caseId").GetString()!;
        var tomorrow = DateOnly.FromDateTime(DateTime.UtcNow.AddHours(8)).AddDays(1);

        Assert.Equal(HttpStatusCode.BadRequest, (await ActAsync(id, "requests", new { text = "Meter calibration records", dueOn = "2020-01-01" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await ActAsync(id, "requests", new { text = "Meter calibration records for 2025", dueOn = tomorrow.AddDays(7) })).StatusCode);
        var asked = (await app.Client("unit", unit).NoticeAsync($"case-{id}-request-1"))!.Value;
        Assert.Contains("Meter calibration records for 2025", asked.GetProperty("bodyZh").GetString());
        Assert.Contains($"{tomorrow.AddDays(7):yyyy-MM-dd}", asked.GetProperty("bodyEn").GetString());
        var link = await ActAsync(id, "requests/1/documents", new { fileName = "calibration.pdf" }, app.Client("unit", unit));
        Assert.Equal(HttpStatusCode.Created, link.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await ActAsync(id, "requests/1/documents", new { fileName = "x.pdf" }, app.Client("district", "朝阳区"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await ActAsync(id, "requests/2/documents", new { fileName = "x.pdf" }, app.Client("unit", unit))).StatusCode);
        var content = "calibration certificates"u8.ToArray();
        Assert.Equal(HttpStatusCode.Created, (await VerificationClient.UploadAsync((await link.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("uploadUrl").GetString()!, content, "application/pdf")).StatusCode);
        JsonElement request = default;
        await Eventually.HoldsAsync(async () =>
        {
            request = (await Regulator.GetFromJsonAsync<JsonElement>($"/api/cases/{id}", Ct)).GetProperty("requests")[0];
            return request.GetProperty("documents").EnumerateArray().Any(d => d.GetProperty("attachment").GetProperty("status").GetString() == "received");
        }, "the answer is filed");
        Assert.Equal(content, await VerificationClient.Anonymous.GetByteArrayAsync(request.GetProperty("documents")[0].GetProperty("downloadUrl").GetString(), Ct));
        Assert.False(request.GetProperty("overdue").GetBoolean());

        Assert.Equal(HttpStatusCode.OK, (await ActAsync(id, "inspections", new
        {
            date = tomorrow.AddDays(-1), inspectors = new[] { "赵", "钱" }, examined = "Boiler 2 meter and its calibration log", findings = "Calibration lapsed for 3 months.",
        }, app.Client("district", "朝阳区"))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await ActAsync(id, "inspections", new { date = tomorrow.AddDays(3), inspectors = new[] { "赵" }, examined = "x", findings = "y" })).StatusCode);

        var undecided = await ActAsync(id, "close");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, undecided.StatusCode);
        Assert.Contains("decide it first", await undecided.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.BadRequest, (await ActAsync(id, "decision", new { outcome = "order-to-correct", legalBasis = "Art. 23" })).StatusCode);
        var noShortfall = await ActAsync(id, "decision", new { outcome = "penalty", legalBasis = "Art. 30", penalty = "as the rules set", deductT = 10 });
        Assert.Equal(HttpStatusCode.UnprocessableEntity, noShortfall.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await ActAsync(id, "decision", new { outcome = "order-to-correct", legalBasis = "Art. 23", correctBy = tomorrow.AddDays(30) })).StatusCode);
        Assert.Contains($"{tomorrow.AddDays(30):yyyy-MM-dd}", (await app.Client("unit", unit).NoticeAsync($"case-{id}-decision-1"))!.Value.GetProperty("bodyEn").GetString());
        Assert.Equal(HttpStatusCode.OK, (await ActAsync(id, "close")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await ActAsync(id, "reopen", new { reason = "" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await ActAsync(id, "reopen", new { reason = "The unit's correction report contradicts the inspection." })).StatusCode);

        var shown = await app.Client("unit", unit).GetFromJsonAsync<JsonElement>($"/api/cases/{id}", Ct);
        Assert.Equal("open", shown.GetProperty("status").GetString());
        Assert.Equal(["opened", "decided", "closed", "reopened"], shown.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("action").GetString()));
        Assert.Equal("赵", shown.GetProperty("inspections")[0].GetProperty("inspectors")[0].GetString());
        var audit = await Regulator.GetFromJsonAsync<JsonElement>($"/api/audit?subject=cases/{id}", Ct);
        Assert.Contains(audit.GetProperty("entries").EnumerateArray(), e => e.GetProperty("action").GetString() == "case.reopened");
    }

    [Fact]
    public async Task AVerificationBodysEvaluation_CitesTheCasesItRestsOn_AndOnlyThose()
    {
        var verification = new VerificationClient(app);
        var reported = await verification.ReportedKeyUnitAsync();
        var body = await verification.EligibleVerifierAsync();
        var links = await verification.LinksAsync(reported.Uscc, body);
        Assert.Equal(HttpStatusCode.Created, (await VerificationClient.UploadAsync(links, "reportUploadUrl", VerificationClient.Pdf(), "application/pdf")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await VerificationClient.UploadAsync(links, "statementUploadUrl", VerificationClient.Statement(reported, total: reported.Total * 7 / 10), "application/json")).StatusCode);
        Assert.True((await verification.SettledAsync(reported.Uscc)).GetProperty("flagged").GetBoolean());
        var aboutBody = (await OpenAsync(Regulator, new { party = new { kind = "verifier", id = body }, source = "flagged-verification", sourceRef = $"units/{reported.Uscc}/reports/{VerificationClient.Year}",
            summary = "Verified total 30% under the report without explanation." })).GetProperty("caseId").GetString()!;
        var elsewhere = (await OpenAsync(Regulator, new { party = new { kind = "unit", id = await Lists.TestUnits.RegisterAsync(Regulator) }, source = "manual", summary = "Unrelated." }))
            .GetProperty("caseId").GetString()!;

        var unrelated = await Regulator.PostAsJsonAsync($"/api/verifiers/{body}/evaluations",
            new { unit = reported.Uscc, year = VerificationClient.Year, score = 40, notes = "Figures unreliable.", cases = new[] { aboutBody, elsewhere } }, Ct);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, unrelated.StatusCode);
        Assert.Contains(elsewhere, await unrelated.Content.ReadAsStringAsync(Ct));
        var evaluated = await Regulator.PostAsJsonAsync($"/api/verifiers/{body}/evaluations",
            new { unit = reported.Uscc, year = VerificationClient.Year, score = 40, notes = "Figures unreliable; see the case.", cases = new[] { aboutBody } }, Ct);
        Assert.Equal(HttpStatusCode.Created, evaluated.StatusCode);
        var view = await Regulator.GetFromJsonAsync<JsonElement>($"/api/verifiers/{body}", Ct);
        Assert.Equal(aboutBody, view.GetProperty("evaluations")[0].GetProperty("cases")[0].GetString());
        // The body is the party of that case: it sees it.
        Assert.Equal(HttpStatusCode.OK, (await app.Client("verifier", body).GetAsync($"/api/cases/{aboutBody}", Ct)).StatusCode);
    }
}

/// <summary>An app whose clock the test moves past a request's deadline.</summary>
public sealed class CaseClockFixture : EtsAppFixture
{
    public FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);

    protected override void ConfigureServices(IServiceCollection services) => services.AddSingleton<TimeProvider>(Clock);
}

/// <summary>Art. 33: a party that sends nothing by a request's deadline is marked as not cooperating.</summary>
public sealed class CaseDeadlineTests(CaseClockFixture app) : IClassFixture<CaseClockFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task APartyThatSendsNothingByTheDeadline_IsMarkedNotCooperating()
    {
        var regulator = app.Client("regulator");
        var unit = await Lists.TestUnits.RegisterAsync(regulator);
        var opened = await regulator.PostAsJsonAsync("/api/cases", new { party = new { kind = "unit", id = unit }, source = "manual", summary = "Site records requested." }, Ct);
        var id = (await opened.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("caseId").GetString()!;
        var dueOn = DateOnly.FromDateTime(app.Clock.GetUtcNow().AddHours(8).DateTime).AddDays(3);
        Assert.Equal(HttpStatusCode.OK, (await regulator.PostAsJsonAsync($"/api/cases/{id}/requests", new { text = "Production logs", dueOn }, Ct)).StatusCode);

        var onTime = await regulator.GetFromJsonAsync<JsonElement>($"/api/cases/{id}", Ct);
        Assert.False(onTime.GetProperty("notCooperating").GetBoolean());

        app.Clock.Advance(TimeSpan.FromDays(5));
        var late = await app.Client("unit", unit).GetFromJsonAsync<JsonElement>($"/api/cases/{id}", Ct);
        Assert.True(late.GetProperty("notCooperating").GetBoolean());
        Assert.True(late.GetProperty("requests")[0].GetProperty("overdue").GetBoolean());
        var listed = await regulator.GetFromJsonAsync<JsonElement>($"/api/cases?party={unit}&status=open", Ct);
        Assert.True(Assert.Single(listed.EnumerateArray()).GetProperty("notCooperating").GetBoolean());
    }
}
