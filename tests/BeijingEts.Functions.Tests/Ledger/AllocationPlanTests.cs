namespace BeijingEts.Functions.Tests.Ledger;

public sealed class AllocationPlanTests(LedgerFixture app) : IClassFixture<LedgerFixture>
{
    private readonly LedgerClient _ledger = new(app);
    private CancellationToken Ct => TestContext.Current.CancellationToken;

    private static object Plan(long cap, decimal reserveRatio = 0.05m) => new
    {
        cap,
        reserveRatio,
        preAllocationRatio = 0.7m,
        methods = new Dictionary<string, object>
        {
            ["cement"] = new { method = "historical-total", baseYears = new[] { 2023, 2024 }, controlFactor = 0.98m },
            ["power"] = new { method = "benchmark", benchmarks = new Dictionary<string, decimal> { ["electricity-mwh"] = 0.58m } },
        },
    };

    [Fact]
    public async Task Plan_IsStoredWithItsReserveAndHoldsIssuanceToTheCap()
    {
        var set = await _ledger.Regulator.PutAsJsonAsync("/api/allocation/2027/plan", Plan(10_000), Ct);
        await app.ApproveAsync(set);
        var plan = await _ledger.Regulator.GetFromJsonAsync<JsonElement>("/api/allocation/2027/plan", Ct);
        Assert.Equal(500, plan.GetProperty("reserve").GetInt64());
        Assert.Equal(9_500, plan.GetProperty("freeAllocationCeiling").GetInt64());
        Assert.Equal("historical-total", plan.GetProperty("methods").GetProperty("cement").GetProperty("method").GetString());

        Assert.Equal("completed", (await _ledger.SettleAsync(_ledger.Regulator, "issuance", null, "issuance", 9_000, vintage: 2027)).GetProperty("status").GetString());
        var over = await _ledger.SettleAsync(_ledger.Regulator, "issuance", null, "issuance", 1_001, vintage: 2027);
        Assert.Equal("rejected", over.GetProperty("status").GetString());
        Assert.Contains("at most 1000 t more", over.GetProperty("reason").GetString());
        Assert.Equal("completed", (await _ledger.SettleAsync(_ledger.Regulator, "issuance", null, "issuance", 1_000, vintage: 2027)).GetProperty("status").GetString());

        var lower = await _ledger.Regulator.PutAsJsonAsync("/api/allocation/2027/plan", Plan(9_999), Ct);
        Assert.Contains("already issued", (await lower.AssertProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail);
        await _ledger.AssertNoDriftAsync();
    }

    [Fact]
    public async Task ReserveOverFivePercent_IsRefused()
    {
        var response = await _ledger.Regulator.PutAsJsonAsync("/api/allocation/2028/plan", Plan(10_000, reserveRatio: 0.06m), Ct);

        Assert.Contains("Art. 12", (await response.AssertProblemAsync(HttpStatusCode.BadRequest)).Detail);
        Assert.Equal(HttpStatusCode.NotFound, (await _ledger.Regulator.GetAsync("/api/allocation/2028/plan", Ct)).StatusCode);
    }
}
