using BeijingEts.Functions.Tests.Reporting;
using BeijingEts.Functions.Tests.Verification;

namespace BeijingEts.Functions.Tests.Ledger;

public sealed class AdjustmentFixture : FastQueueFixture;

/// <summary>
/// Art. 11-12: a key unit applies to adjust its allocation; the regulator decides with the unit's record beside the
/// application, and a granted change moves through the reserve, within what it holds and the plan's reserve.
/// </summary>
public sealed class AdjustmentTests(AdjustmentFixture app) : IClassFixture<AdjustmentFixture>
{
    private readonly LedgerClient _ledger = new(app);
    private readonly ReportingClient _reporting = new(app);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private HttpClient Regulator => _ledger.Regulator;

    /// <summary>A key unit of the year under a plan whose reserve is 5% of a 100,000 t cap (5,000 t), with <paramref name="funded"/> t in the reserve account.</summary>
    private async Task<string> KeyUnitAsync(int year, long funded)
    {
        var uscc = await _reporting.ListedUnitAsync(year);
        if (!(await Regulator.GetAsync($"/api/allocation/{year}/plan", Ct)).IsSuccessStatusCode)
        {
            await app.ApproveAsync(await Regulator.PutAsJsonAsync($"/api/allocation/{year}/plan", new
            {
                cap = 100_000, reserveRatio = 0.05m, preAllocationRatio = 0.7m,
                methods = new Dictionary<string, object> { ["cement"] = new { method = "historical-total", baseYears = new[] { year - 2, year - 1 }, controlFactor = 1.0m } },
            }, Ct));
            await _ledger.SettleAsync(Regulator, "issuance", null, "issuance", funded, vintage: year);
            await _ledger.SettleAsync(Regulator, "allocation", "issuance", "reserve", funded, vintage: year);
        }
        return uscc;
    }

    private async Task<JsonElement> ApplyAsync(string uscc, int year, long quantity, string reason = "line-added")
    {
        var response = await app.Client("unit", uscc).PostAsJsonAsync($"/api/allocation/{year}/units/{uscc}/adjustments",
            new { reason, explanation = "A second kiln line went into operation in March.", quantity }, Ct);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync(Ct));
        return await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
    }

    private Task<HttpResponseMessage> DecideAsync(string id, string outcome, long? quantity, string reasons = "Checked against the commissioning records and the monthly data.") =>
        Regulator.PostAsJsonAsync($"/api/adjustments/{id}/decision", new { outcome, quantity, reasons }, Ct);

    [Fact]
    public async Task AnIncrease_GrantedInPart_IsPaidFromTheReserve_OnASecondRegulatorsApproval()
    {
        const int year = 2017;
        var uscc = await KeyUnitAsync(year, funded: 600);
        var id = (await ApplyAsync(uscc, year, 500)).GetProperty("id").GetString()!;
        // The regulator, who must decide it, is told what is asked and why.
        var toDecide = (await Regulator.NoticeAsync($"adjustment-{id}-filed"))!.Value;
        Assert.Equal("adjustment.filed", toDecide.GetProperty("kind").GetString());
        Assert.Contains($"{uscc} asks for 500 t more {year} allocation (line-added): A second kiln line", toDecide.GetProperty("bodyEn").GetString());
        Assert.Contains("申请增加2017年度配额 500 吨", toDecide.GetProperty("bodyZh").GetString());
        Assert.Null(await app.Client("unit", uscc).NoticeAsync($"adjustment-{id}-filed"));

        // Evidence goes up through a link, and sits beside the unit's record when the regulator reviews.
        var link = await app.Client("unit", uscc).PostAsJsonAsync($"/api/adjustments/{id}/evidence", new { fileName = "commissioning.pdf" }, Ct);
        Assert.Equal(HttpStatusCode.Created, link.StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await VerificationClient.UploadAsync((await link.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("uploadUrl").GetString()!,
            "kiln 2 commissioning certificate"u8.ToArray(), "application/pdf")).StatusCode);
        JsonElement review = default;
        await Eventually.HoldsAsync(async () =>
        {
            review = await Regulator.GetFromJsonAsync<JsonElement>($"/api/adjustments/{id}", Ct);
            return review.GetProperty("evidence").EnumerateArray().Any(e => e.GetProperty("attachment").GetProperty("status").GetString() == "received");
        }, "the evidence is filed");
        Assert.Equal(5_000, review.GetProperty("reserve").GetProperty("ceilingT").GetInt64());
        Assert.Equal(600, review.GetProperty("reserve").GetProperty("heldT").GetInt64());

        Assert.Equal(HttpStatusCode.BadRequest, (await DecideAsync(id, "granted", 400)).StatusCode); // in full is what was asked
        Assert.Equal(HttpStatusCode.BadRequest, (await DecideAsync(id, "partial", 700)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await DecideAsync(id, "partial", 300, reasons: "")).StatusCode);
        var proposed = await DecideAsync(id, "partial", 300);
        Assert.Equal(HttpStatusCode.Accepted, proposed.StatusCode);
        Assert.Equal("submitted", (await Regulator.GetFromJsonAsync<JsonElement>($"/api/adjustments/{id}", Ct)).GetProperty("application").GetProperty("status").GetString());
        await app.ApproveAsync(proposed);

        await Eventually.HoldsAsync(async () => await _ledger.HoldingAsync(uscc, vintage: year) == 300, "the adjustment is paid");
        var decided = (await app.Client("unit", uscc).GetFromJsonAsync<JsonElement>($"/api/adjustments/{id}", Ct)).GetProperty("application");
        Assert.Equal(("partial", 300), (decided.GetProperty("status").GetString(), decided.GetProperty("decision").GetProperty("quantityT").GetInt64()));
        var reserve = await Regulator.GetFromJsonAsync<JsonElement>($"/api/allocation/{year}/reserve", Ct);
        Assert.Equal((300, 4_700, 300), (reserve.GetProperty("paidOutT").GetInt64(), reserve.GetProperty("leftT").GetInt64(), reserve.GetProperty("heldT").GetInt64()));
        Assert.Equal(HttpStatusCode.Conflict, (await DecideAsync(id, "refused", null)).StatusCode);
        // Carried out again (as the approval sweep does after a cut-off), the same decision finishes without paying twice.
        var regulator = new BeijingEts.Functions.Auth.Actor("local:regulator", "regulator", null);
        var (resumed, refusal) = await app.Service<BeijingEts.Functions.Allocation.AdjustmentDecisions>().DecideAsync(id,
            new BeijingEts.Functions.Allocation.AdjustmentDecisions.Request("partial", 300, "again"), regulator, regulator, Ct);
        Assert.Null(refusal);
        Assert.Equal(300, resumed!.Decision!.PaidT);
        Assert.Equal(300, await _ledger.HoldingAsync(uscc, vintage: year));
        // The unit is told the decision once, though it was carried out twice.
        var told = Assert.Single(await app.Client("unit", uscc).NoticesAsync("adjustment.decided"));
        Assert.Equal($"adjustment-{id}-decided", told.GetProperty("id").GetString());
        Assert.Contains("partly granted: 300 t", told.GetProperty("bodyEn").GetString());
        Assert.Contains("已部分批准，调整 300 吨", told.GetProperty("bodyZh").GetString());
        await _ledger.AssertNoDriftAsync();
    }

    [Fact]
    public async Task AnIncrease_CannotTakeMoreThanTheReserveHolds_OrMoreThanThePlansReserve()
    {
        const int year = 2018;
        var uscc = await KeyUnitAsync(year, funded: 200);
        var overPlan = await app.Client("unit", uscc).PostAsJsonAsync($"/api/allocation/{year}/units/{uscc}/adjustments",
            new { reason = "line-added", explanation = "x", quantity = 5_001 }, Ct);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, overPlan.StatusCode);
        Assert.Contains("more than the whole 2018 reserve", await overPlan.Content.ReadAsStringAsync(Ct));

        var id = (await ApplyAsync(uscc, year, 300)).GetProperty("id").GetString()!;
        var noRoom = await DecideAsync(id, "granted", 300);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, noRoom.StatusCode);
        Assert.Contains("holds 200 t", await noRoom.Content.ReadAsStringAsync(Ct));
        var again = await app.Client("unit", uscc).PostAsJsonAsync($"/api/allocation/{year}/units/{uscc}/adjustments", new { reason = "other", explanation = "y", quantity = 10 }, Ct);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);

        var refused = await DecideAsync(id, "refused", null, "The new line's output is already in the plan's basis.");
        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.Equal("refused", (await refused.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("status").GetString());
        Assert.Contains("application was refused", (await app.Client("unit", uscc).NoticeAsync($"adjustment-{id}-decided"))!.Value.GetProperty("bodyEn").GetString());
        Assert.Single(await Regulator.NoticesAsync("adjustment.filed"), n => n.GetProperty("bodyEn").GetString()!.StartsWith(uscc, StringComparison.Ordinal)); // the refused second application told nobody
        Assert.Equal(0, await _ledger.HoldingAsync(uscc, vintage: year));
    }

    [Fact]
    public async Task ADecrease_IsReclaimedIntoTheReserve_AndWhatTheUnitCannotCoverIsCarried()
    {
        const int year = 2019;
        var uscc = await KeyUnitAsync(year, funded: 1_000);
        await _ledger.SettleAsync(Regulator, "issuance", null, "issuance", 300, vintage: year);
        await _ledger.SettleAsync(Regulator, "allocation", "issuance", uscc, 300, vintage: year);
        var id = (await ApplyAsync(uscc, year, -500, reason: "line-closed")).GetProperty("id").GetString()!;

        await app.ApproveAsync(await DecideAsync(id, "granted", -500, "Line 1 closed in May: its share of the year's allocation returns."));

        var decision = (await Regulator.GetFromJsonAsync<JsonElement>($"/api/adjustments/{id}", Ct)).GetProperty("application").GetProperty("decision");
        Assert.Equal((300, 200, year), (decision.GetProperty("reclaimedT").GetInt64(), decision.GetProperty("carriedT").GetInt64(), decision.GetProperty("carriedToYear").GetInt32()));
        Assert.Equal(0, await _ledger.HoldingAsync(uscc, vintage: year));
        var reserve = await Regulator.GetFromJsonAsync<JsonElement>($"/api/allocation/{year}/reserve", Ct);
        Assert.Equal((300, 1_300, 5_300), (reserve.GetProperty("reclaimedT").GetInt64(), reserve.GetProperty("heldT").GetInt64(), reserve.GetProperty("leftT").GetInt64()));
        await _ledger.AssertNoDriftAsync();
    }

    [Fact]
    public async Task OnlyTheUnitApplies_ItsDistrictAndTheRegulatorRead_AndNobodyElse()
    {
        const int year = 2020;
        var uscc = await KeyUnitAsync(year, funded: 100);
        var other = await _reporting.ListedUnitAsync(year);
        var general = await _reporting.ListedUnitAsync(year, key: false);
        var id = (await ApplyAsync(uscc, year, 50)).GetProperty("id").GetString()!;

        Assert.Equal(HttpStatusCode.NotFound, (await app.Client("unit", other).PostAsJsonAsync($"/api/allocation/{year}/units/{uscc}/adjustments", new { reason = "other", explanation = "x", quantity = 1 }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await app.Client("unit", general).PostAsJsonAsync($"/api/allocation/{year}/units/{general}/adjustments", new { reason = "other", explanation = "x", quantity = 1 }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await app.Client("unit", other).PostAsJsonAsync($"/api/allocation/{year}/units/{other}/adjustments", new { reason = "whim", explanation = "x", quantity = 0 }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client("unit", other).GetAsync($"/api/adjustments/{id}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client("district", "海淀区").GetAsync($"/api/adjustments/{id}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.Client("district", "朝阳区").GetAsync($"/api/adjustments/{id}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client("unit", other).PostAsJsonAsync($"/api/adjustments/{id}/evidence", new { fileName = "x.pdf" }, Ct)).StatusCode);
        Assert.Empty((await app.Client("unit", other).GetFromJsonAsync<JsonElement>($"/api/allocation/{year}/adjustments", Ct)).EnumerateArray());
        Assert.Empty((await app.Client("district", "海淀区").GetFromJsonAsync<JsonElement>($"/api/allocation/{year}/adjustments", Ct)).EnumerateArray());
        Assert.Single((await Regulator.GetFromJsonAsync<JsonElement>($"/api/allocation/{year}/adjustments?status=submitted", Ct)).EnumerateArray());
        Assert.Null(await app.Client("unit", other).NoticeAsync($"adjustment-{id}-filed"));
        Assert.Null(await app.Client("district", "朝阳区").NoticeAsync($"adjustment-{id}-filed"));
        Assert.Equal(HttpStatusCode.Forbidden, (await app.Client("district", "朝阳区").PostAsJsonAsync($"/api/adjustments/{id}/decision", new { outcome = "refused", reasons = "x" }, Ct)).StatusCode);
    }
}
