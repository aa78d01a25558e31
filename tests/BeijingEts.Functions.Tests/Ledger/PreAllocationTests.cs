namespace BeijingEts.Functions.Tests.Ledger;

public sealed class PreAllocationFixture : FastQueueFixture;

public sealed class PreAllocationTests(PreAllocationFixture app) : IClassFixture<PreAllocationFixture>
{
    private readonly LedgerClient _ledger = new(app);
    private CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A unit with emissions in the two base years before the list year, and key-unit figures in the list year.</summary>
    private async Task<string> KeyUnitAsync(int listYear, string industry, long firstBaseYear, long secondBaseYear)
    {
        var uscc = await Lists.TestUnits.RegisterAsync(_ledger.Regulator, industry: industry);
        foreach (var (year, emissions) in new[] { (listYear - 2, firstBaseYear), (listYear - 1, secondBaseYear), (listYear, 9000L) })
        {
            var put = await _ledger.Regulator.PutAsJsonAsync($"/api/units/{uscc}/statistics/{year}", new { energyConsumptionTce = 5000, directEmissionsT = emissions, indirectEmissionsT = 0 }, Ct);
            Assert.True(put.IsSuccessStatusCode);
        }
        return uscc;
    }

    private async Task SetPlanAsync(int year, long cap) =>
        await app.ApproveAsync(await _ledger.Regulator.PutAsJsonAsync($"/api/allocation/{year}/plan", new
        {
            cap,
            reserveRatio = 0.05m,
            preAllocationRatio = 0.7m,
            methods = new Dictionary<string, object>
            {
                ["cement"] = new { method = "historical-total", baseYears = new[] { year - 2, year - 1 }, controlFactor = 1.0m },
                ["power"] = new { method = "benchmark", benchmarks = new Dictionary<string, decimal> { ["electricity-mwh"] = 0.58m } },
            },
        }, Ct));

    /// <summary>Art. 13: a payment whose id holds a different transaction is a failure, never taken as the payment made.</summary>
    [Fact]
    public async Task PreAllocation_WhoseIdHoldsADifferentTransaction_FailsAndPaysNothing()
    {
        const int year = 2023;
        var cement = await KeyUnitAsync(year, "cement", 10_000, 10_001);
        await _ledger.Regulator.PostAsync($"/api/lists/{year}/publish", null, Ct);
        await SetPlanAsync(year, 1_000_000);
        var squatter = new BeijingEts.Functions.Ledger.LedgerTransaction(BeijingEts.Domain.Ledger.LedgerIds.PreAllocation(year, cement), BeijingEts.Domain.Ledger.TransactionType.Cancellation,
            cement, "cancellation", "BEA", year, new BeijingEts.Domain.Ledger.Tonnes(1), null, null, "test", DateTimeOffset.UtcNow);
        Assert.Null(await app.Service<BeijingEts.Functions.Ledger.TransactionStore>().TryAddAsync(squatter, Ct));

        var run = await _ledger.Regulator.PostAsync($"/api/allocation/{year}/pre-allocation", null, Ct);

        Assert.Contains("taken by different transactions", (await run.AssertProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail);
        Assert.Equal(0, await _ledger.HoldingAsync(cement, vintage: year));
        // Nobody is told of an allocation the run did not make.
        var inbox = await app.Client("unit", cement).GetFromJsonAsync<JsonElement>("/api/notifications", Ct);
        Assert.DoesNotContain(inbox.GetProperty("notifications").EnumerateArray(), n => n.GetProperty("kind").GetString() == "allocation.pre-allocated");
    }

    [Fact]
    public async Task PreAllocation_GivesEachKeyUnitItsShareOnceThroughTheLedger()
    {
        const int year = 2025;
        var cement = await KeyUnitAsync(year, "cement", 10_000, 10_001); // basis 10,000.5 → 10,001; 70% → 7,000.7 → 7,001
        var power = await KeyUnitAsync(year, "power", 50_000, 50_000);   // benchmark needs activity that no report has given yet
        await _ledger.Regulator.PostAsync($"/api/lists/{year}/publish", null, Ct);
        await SetPlanAsync(year, 1_000_000);

        var run = await _ledger.Regulator.PostAsync($"/api/allocation/{year}/pre-allocation", null, Ct);
        Assert.Equal(HttpStatusCode.OK, run.StatusCode);
        var answer = await run.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(7_001, answer.GetProperty("preAllocated").GetInt64());
        var failure = Assert.Single(answer.GetProperty("failures").EnumerateArray());
        Assert.Equal(power, failure.GetProperty("uscc").GetString());
        Assert.Contains("activity", failure.GetProperty("reason").GetString());

        await _ledger.OutcomeAsync(BeijingEts.Domain.Ledger.LedgerIds.PreAllocation(year, cement));
        Assert.Equal(7_001, await _ledger.HoldingAsync(cement, vintage: year));
        var record = await app.Client("unit", cement).GetFromJsonAsync<JsonElement>($"/api/allocation/{year}/units/{cement}", Ct);
        Assert.Equal(10_001, record.GetProperty("basis").GetInt64());
        Assert.Equal("historical-total", record.GetProperty("method").GetString());
        Assert.Equal(DateTimeOffset.UtcNow.ToOffset(TimeSpan.FromHours(8)).ToString("yyyy-MM-dd"), record.GetProperty("receivedOn").GetString());

        var again = await _ledger.Regulator.PostAsync($"/api/allocation/{year}/pre-allocation", null, Ct);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(0, (await again.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("issued").GetInt64());
        await Task.Delay(500, Ct);
        Assert.Equal(7_001, await _ledger.HoldingAsync(cement, vintage: year));
        await _ledger.AssertNoDriftAsync();
    }

    [Fact]
    public async Task PreAllocation_OverTheFreeCeiling_IsRefusedWithTheFigures()
    {
        const int year = 2024;
        await KeyUnitAsync(year, "cement", 100_000, 100_000);
        await _ledger.Regulator.PostAsync($"/api/lists/{year}/publish", null, Ct);
        await SetPlanAsync(year, 50_000);

        var run = await _ledger.Regulator.PostAsync($"/api/allocation/{year}/pre-allocation", null, Ct);

        var detail = (await run.AssertProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail;
        Assert.Contains("70000 t", detail);
        Assert.Contains("47500 t", detail);
    }

    [Fact]
    public async Task PreAllocation_NeedsAPlanAndAList()
    {
        Assert.Contains("plan", (await (await _ledger.Regulator.PostAsync("/api/allocation/2019/pre-allocation", null, Ct)).AssertProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail);
        await SetPlanAsync(2019, 1000);
        Assert.Contains("publish", (await (await _ledger.Regulator.PostAsync("/api/allocation/2019/pre-allocation", null, Ct)).AssertProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail);
    }
}

public sealed class RemovalReclaimTests(PreAllocationFixture app) : IClassFixture<PreAllocationFixture>
{
    private readonly LedgerClient _ledger = new(app);
    private CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ConfirmedRemoval_ReclaimsThatYearsPreAllocation()
    {
        const int year = 2026;
        var uscc = await Lists.TestUnits.RegisterAsync(_ledger.Regulator, district: "密云区");
        foreach (var (y, emissions) in new[] { (2024, 10_000L), (2025, 10_000L), (2026, 10_000L) })
        {
            await _ledger.Regulator.PutAsJsonAsync($"/api/units/{uscc}/statistics/{y}", new { energyConsumptionTce = 5000, directEmissionsT = emissions, indirectEmissionsT = 0 }, Ct);
        }
        await _ledger.Regulator.PostAsync($"/api/lists/{year}/publish", null, Ct);
        await app.ApproveAsync(await _ledger.Regulator.PutAsJsonAsync($"/api/allocation/{year}/plan", new
        {
            cap = 1_000_000, reserveRatio = 0.05m, preAllocationRatio = 0.5m,
            methods = new Dictionary<string, object> { ["cement"] = new { method = "historical-total", baseYears = new[] { 2024, 2025 }, controlFactor = 1.0m } },
        }, Ct));
        await _ledger.Regulator.PostAsync($"/api/allocation/{year}/pre-allocation", null, Ct);
        await _ledger.OutcomeAsync(BeijingEts.Domain.Ledger.LedgerIds.PreAllocation(year, uscc));
        Assert.Equal(5_000, await _ledger.HoldingAsync(uscc, vintage: year));

        var requested = await app.Client("unit", uscc).PostAsJsonAsync($"/api/units/{uscc}/removals", new { reason = "relocated", effectiveOn = "2026-09-30", explanation = "迁出" }, Ct);
        var id = (await requested.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString();
        await app.Client("district", "密云区").PostAsync($"/api/removals/{id}/district-confirmation", null, Ct);
        var confirmed = await _ledger.Regulator.PostAsync($"/api/removals/{id}/confirmation", null, Ct);

        var reclaimId = (await confirmed.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("reclaimTransactionId").GetString()!;
        Assert.Equal("completed", (await _ledger.OutcomeAsync(reclaimId)).GetProperty("status").GetString());
        Assert.Equal(0, await _ledger.HoldingAsync(uscc, vintage: year));
        await _ledger.AssertNoDriftAsync();
    }
}
