namespace BeijingEts.Functions.Tests.Ledger;

public sealed class SuccessionTests(LedgerFixture app) : IClassFixture<LedgerFixture>
{
    private readonly LedgerClient _ledger = new(app);
    private CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Split_PassesHoldingsInWholeTonneSharesAndConserves()
    {
        var unit = await _ledger.NewAccountAsync();
        var first = await _ledger.NewAccountAsync();
        var second = await _ledger.NewAccountAsync();
        await _ledger.SettleAsync(_ledger.Regulator, "issuance", null, "issuance", 1001, vintage: 2033);
        await _ledger.SettleAsync(_ledger.Regulator, "allocation", "issuance", unit, 1001, vintage: 2033);
        await _ledger.SettleAsync(_ledger.Regulator, "deposit", null, unit, 10, 2024, "BCER", "BCER-7-0001");

        var response = await app.Client("unit", unit).PostAsJsonAsync($"/api/units/{unit}/changes", new { kind = "split", registeredOn = "2026-06-01", successors = new[] { first, second } }, Ct);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var transfers = (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("holdingTransfers").EnumerateArray().Select(t => t.GetString()!).ToList();
        Assert.Equal(4, transfers.Count);
        foreach (var id in transfers) Assert.Equal("completed", (await _ledger.OutcomeAsync(id)).GetProperty("status").GetString());
        Assert.Equal(501, await _ledger.HoldingAsync(first, vintage: 2033));
        Assert.Equal(500, await _ledger.HoldingAsync(second, vintage: 2033));
        Assert.Equal(5, await _ledger.HoldingAsync(second, "BCER", 2024));
        Assert.Equal(0, await _ledger.HoldingAsync(unit, vintage: 2033));
        await _ledger.AssertNoDriftAsync();
    }

    [Fact]
    public async Task SuccessionCannotBeSentThroughTheApi()
    {
        var a = await _ledger.NewAccountAsync();
        var b = await _ledger.NewAccountAsync();

        var response = await _ledger.SubmitAsync(_ledger.Regulator, "succession", a, b, 1);

        Assert.Contains("not sent", (await response.AssertProblemAsync(HttpStatusCode.Forbidden)).Detail);
    }
}
