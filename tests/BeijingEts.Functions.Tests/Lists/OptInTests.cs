using BeijingEts.Functions.Tests.Ledger;
using BeijingEts.Functions.Tests.Reporting;

namespace BeijingEts.Functions.Tests.Lists;

public sealed class OptInFixture : FastQueueFixture;

/// <summary>Art. 10 para 1: a general reporting unit opts in to allowance management from a year, and withdraws only from a future one.</summary>
public sealed class OptInTests(OptInFixture app) : IClassFixture<OptInFixture>
{
    private readonly ReportingClient _reporting = new(app);
    private readonly LedgerClient _ledger = new(app);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static int ThisYear => ReportingClient.CurrentYear;
    private HttpClient Regulator => _reporting.Regulator;

    private Task<HttpResponseMessage> ApplyAsync(string uscc, int fromYear, HttpClient? client = null) =>
        (client ?? app.Client("unit", uscc)).PostAsJsonAsync($"/api/units/{uscc}/opt-in", new { fromYear, reason = "We want to trade our reductions." }, Ct);

    private async Task<JsonElement> EntryAsync(int year, string uscc) =>
        (await app.Client().GetFromJsonAsync<JsonElement>($"/api/lists/{year}", Ct)).GetProperty("entries").EnumerateArray().Single(e => e.GetProperty("uscc").GetString() == uscc);

    private async Task PublishAsync(string uscc, int year)
    {
        Assert.True((await Regulator.PutAsJsonAsync($"/api/units/{uscc}/statistics/{year}", new { energyConsumptionTce = 5000, directEmissionsT = 3000, indirectEmissionsT = 0 }, Ct)).IsSuccessStatusCode);
        Assert.True((await Regulator.PostAsync($"/api/lists/{year}/publish", null, Ct)).IsSuccessStatusCode);
    }

    [Fact]
    public async Task AnApprovedOptIn_ListsTheUnitAsKey_MarkedVoluntary_AndAllocatesToIt_UntilItWithdraws()
    {
        var uscc = await _reporting.ListedUnitAsync(ThisYear - 1, key: false);
        Assert.Equal("reporting", (await EntryAsync(ThisYear - 1, uscc)).GetProperty("category").GetString());

        Assert.Equal(HttpStatusCode.BadRequest, (await ApplyAsync(uscc, ThisYear - 1)).StatusCode); // not a past year
        var applied = await ApplyAsync(uscc, ThisYear);
        Assert.Equal(HttpStatusCode.Created, applied.StatusCode);
        var id = (await applied.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString()!;
        Assert.Equal(HttpStatusCode.Conflict, (await ApplyAsync(uscc, ThisYear + 1)).StatusCode);
        Assert.Contains((await Regulator.GetFromJsonAsync<JsonElement>("/api/opt-ins?status=pending", Ct)).EnumerateArray(), o => o.GetProperty("id").GetString() == id);
        Assert.Equal(HttpStatusCode.BadRequest, (await Regulator.PostAsJsonAsync($"/api/opt-ins/{id}/decision", new { decision = "approved", reasons = " " }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Regulator.PostAsJsonAsync($"/api/opt-ins/{id}/decision", new { decision = "approved", reasons = "Meets the monitoring requirements." }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await Regulator.PostAsJsonAsync($"/api/opt-ins/{id}/decision", new { decision = "refused", reasons = "changed mind" }, Ct)).StatusCode);

        // From the year on, it is listed as a key unit, marked voluntary, and allocated to like one.
        var next = ThisYear;
        await PublishAsync(uscc, next);
        var entry = await EntryAsync(next, uscc);
        Assert.Equal(("key", true), (entry.GetProperty("category").GetString(), entry.GetProperty("voluntary").GetBoolean()));
        Assert.True((await Regulator.PutAsJsonAsync($"/api/units/{uscc}/statistics/{ThisYear - 2}", new { energyConsumptionTce = 5000, directEmissionsT = 3000, indirectEmissionsT = 0 }, Ct)).IsSuccessStatusCode);
        await app.ApproveAsync(await Regulator.PutAsJsonAsync($"/api/allocation/{next}/plan", new
        {
            cap = 10_000_000, reserveRatio = 0.05m, preAllocationRatio = 0.7m,
            methods = new Dictionary<string, object> { ["cement"] = new { method = "historical-total", baseYears = new[] { ThisYear - 2, ThisYear - 1 }, controlFactor = 1.0m } },
        }, Ct));
        Assert.Equal(HttpStatusCode.OK, (await Regulator.PostAsync($"/api/allocation/{next}/pre-allocation", null, Ct)).StatusCode);
        await Eventually.HoldsAsync(async () => await _ledger.HoldingAsync(uscc, vintage: next) == 2_100, "the voluntary unit's pre-allocation (70% of 3,000 t) arrives");
        // The yearly cycle gives it a key unit's steps: allocation, verification, confirmation, assessment.
        var phases = app.Service<BeijingEts.Functions.Cycle.CyclePhases>();
        foreach (var phase in new[] { BeijingEts.Functions.Cycle.CyclePhase.PreAllocation, BeijingEts.Functions.Cycle.CyclePhase.Verification,
                     BeijingEts.Functions.Cycle.CyclePhase.Confirmation, BeijingEts.Functions.Cycle.CyclePhase.VerifiedAllocation, BeijingEts.Functions.Cycle.CyclePhase.Assessment })
        {
            Assert.Contains(uscc, (await phases.UnitsAsync(next, phase, Ct)).Units);
        }

        // It withdraws only from a future year: this year's list stands, a list from then on has it as a general reporting unit again.
        Assert.Equal(HttpStatusCode.BadRequest, (await app.Client("unit", uscc).PostAsJsonAsync($"/api/units/{uscc}/opt-in/withdrawal", new { fromYear = ThisYear }, Ct)).StatusCode);
        var withdrawn = await app.Client("unit", uscc).PostAsJsonAsync($"/api/units/{uscc}/opt-in/withdrawal", new { fromYear = ThisYear + 1 }, Ct);
        Assert.Equal(HttpStatusCode.OK, withdrawn.StatusCode);
        var optIn = (await withdrawn.Content.ReadFromJsonAsync<BeijingEts.Functions.Lists.OptIn>(Ct))!;
        Assert.Equal(ThisYear, optIn.UntilYear);
        Assert.True(optIn.Covers(ThisYear));
        Assert.False(optIn.Covers(ThisYear + 1));
        var audit = await Regulator.GetFromJsonAsync<JsonElement>($"/api/audit?subject=units/{uscc}/opt-in", Ct);
        Assert.Equal(["opt-in.applied", "opt-in.approved", "opt-in.withdrawn"], audit.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("action").GetString()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task OnlyAGeneralReportingUnit_AppliesForItself()
    {
        var key = await _reporting.ListedUnitAsync(ThisYear - 1);
        var general = await _reporting.ListedUnitAsync(ThisYear - 1, key: false);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await ApplyAsync(key, ThisYear + 1)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await ApplyAsync(general, ThisYear + 1, app.Client("unit", key))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await ApplyAsync(general, ThisYear + 1, Regulator)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await ApplyAsync(general, ThisYear + 9)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Regulator.PostAsJsonAsync($"/api/opt-ins/{Guid.NewGuid():N}/decision", new { decision = "approved", reasons = "x" }, Ct)).StatusCode);
        Assert.Empty((await app.Client("unit", general).GetFromJsonAsync<JsonElement>($"/api/units/{general}/opt-in", Ct)).EnumerateArray());
    }
}
