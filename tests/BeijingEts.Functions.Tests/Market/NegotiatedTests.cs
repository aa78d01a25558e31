using BeijingEts.Functions.Market;
using BeijingEts.Functions.Tests.Lists;

namespace BeijingEts.Functions.Tests.Market;

/// <summary>The app on a fake clock (so deadlines pass on demand), with a 10 t minimum for negotiated transfers.</summary>
public sealed class NegotiatedFixture : MarketClockFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
    {
        ["Ets:Market:NegotiatedMinimumTonnes"] = "10",
        ["Ets:Market:NegotiatedConfirmationMinutes"] = "60",
    };
}

/// <summary>Negotiated transfer (协议转让, Art. 19): the seller proposes, the named buyer confirms before the deadline, the trade settles.</summary>
public sealed class NegotiatedTests(NegotiatedFixture app) : IClassFixture<NegotiatedFixture>
{
    private readonly MarketClient _market = new(app);
    private CancellationToken Ct => TestContext.Current.CancellationToken;

    private Task<HttpResponseMessage> ProposeAsync(string seller, string buyer, int vintage, decimal price, object quantity, string? clientId = null) =>
        app.Client("participant", seller).PostAsJsonAsync("/api/market/negotiated",
            new { clientId = clientId ?? Guid.NewGuid().ToString("N"), buyer, product = "BEA", vintage, price, quantity }, Ct);

    private async Task<JsonElement> ProposedAsync(string seller, string buyer, int vintage, decimal price, long quantity)
    {
        var response = await ProposeAsync(seller, buyer, vintage, price, quantity);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync(Ct));
        return await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
    }

    private Task<HttpResponseMessage> ConfirmAsync(string who, string id) =>
        app.Client("participant", who).PostAsync($"/api/market/negotiated/{id}/confirmation", null, Ct);

    [Fact]
    public async Task AConfirmedDeal_TradesAtItsPrice_AndSettlesTonnesFundsAndFees()
    {
        var vintage = await _market.NewVintageAsync();
        var seller = await _market.TraderAsync(vintage, tonnes: 100);
        var buyer = await _market.TraderAsync(vintage, yuan: 10_000m);

        var clientId = Guid.NewGuid().ToString("N");
        var response = await ProposeAsync(seller, buyer, vintage, 60.00m, 40, clientId);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var deal = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        var id = deal.GetProperty("id").GetString()!;
        Assert.Equal("awaiting-confirmation", deal.GetProperty("status").GetString());
        Assert.Equal((60L, 40L), await _market.HoldingAsync(seller, vintage));
        // Proposing again under the same client id is the same deal; other content under it is refused.
        var again = await ProposeAsync(seller, buyer, vintage, 60.00m, 40, clientId);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(id, (await again.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("id").GetString());
        await (await ProposeAsync(seller, buyer, vintage, 61.00m, 40, clientId)).AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Equal((60L, 40L), await _market.HoldingAsync(seller, vintage));

        var confirmed = await ConfirmAsync(buyer, id);
        Assert.Equal(HttpStatusCode.OK, confirmed.StatusCode);
        Assert.Equal("confirmed", (await confirmed.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("status").GetString());
        var trade = Assert.Single(await _market.TradesAsync(vintage));
        Assert.Equal((buyer, seller, 60.00m, 40L, "negotiated", true), (trade.GetProperty("buyer").GetString(), trade.GetProperty("seller").GetString(),
            trade.GetProperty("price").GetDecimal(), trade.GetProperty("quantity").GetInt64(), trade.GetProperty("method").GetString(), trade.GetProperty("settled").GetBoolean()));
        // 2,400.00 turnover; 0.15% fee a side = 3.60.
        Assert.Equal((10_000m - 2_403.60m, 0m), await _market.FundsAsync(buyer));
        Assert.Equal((2_396.40m, 0m), await _market.FundsAsync(seller));
        Assert.Equal((40L, 0L), await _market.HoldingAsync(buyer, vintage));
        Assert.Equal((60L, 0L), await _market.HoldingAsync(seller, vintage));
        // Confirming twice trades once.
        Assert.Equal(HttpStatusCode.OK, (await ConfirmAsync(buyer, id)).StatusCode);
        Assert.Single(await _market.TradesAsync(vintage));
        Assert.Contains(await app.Client("participant", buyer).GetFromJsonAsync<JsonElement[]>("/api/market/negotiated", Ct) ?? [], d => d.GetProperty("id").GetString() == id);
        await _market.Ledger.AssertNoDriftAsync();
    }

    [Fact]
    public async Task BadProposals_AreRefusedWithWhatToFix_AndWriteNothing()
    {
        var vintage = await _market.NewVintageAsync(reference: 50.00m);
        var seller = await _market.TraderAsync(vintage, tonnes: 100);
        var buyer = await _market.TraderAsync(vintage, yuan: 10_000m);

        await (await ProposeAsync(seller, buyer, vintage, 50.00m, 5)).AssertProblemAsync(HttpStatusCode.BadRequest, "at least 10 t");
        await (await ProposeAsync(seller, buyer, vintage, 50.00m, 12.5m)).AssertProblemAsync(HttpStatusCode.BadRequest);
        await (await ProposeAsync(seller, buyer, vintage, 50.001m, 20)).AssertProblemAsync(HttpStatusCode.BadRequest, "tick");
        await (await ProposeAsync(seller, seller, vintage, 50.00m, 20)).AssertProblemAsync(HttpStatusCode.BadRequest, "buyer");
        await (await ProposeAsync(seller, TestUnits.NewUscc(), vintage, 50.00m, 20)).AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "no holding account");
        await (await ProposeAsync(seller, buyer, vintage, 65.01m, 20)).AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "band"); // ±30% of 50.00 is 35.00 to 65.00
        await (await ProposeAsync(seller, buyer, vintage, 50.00m, 101)).AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "Insufficient holdings");
        await (await ProposeAsync(seller, buyer, vintage + 40, 50.00m, 20)).AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "issued");

        Assert.Empty(await app.Client("participant", seller).GetFromJsonAsync<JsonElement[]>("/api/market/negotiated", Ct) ?? []);
        Assert.Equal((100L, 0L), await _market.HoldingAsync(seller, vintage));
    }

    [Fact]
    public async Task OnlyTheBuyer_CanConfirm_WithTheFunds_AndBeforeTheDeadline()
    {
        var vintage = await _market.NewVintageAsync();
        var seller = await _market.TraderAsync(vintage, tonnes: 100);
        var buyer = await _market.TraderAsync(vintage, yuan: 1_000m);
        var stranger = await _market.TraderAsync(vintage, yuan: 1_000_000m);
        var id = (await ProposedAsync(seller, buyer, vintage, 50.00m, 30)).GetProperty("id").GetString()!;

        await (await ConfirmAsync(seller, id)).AssertProblemAsync(HttpStatusCode.Forbidden, "Only the buyer");
        await (await ConfirmAsync(stranger, id)).AssertProblemAsync(HttpStatusCode.NotFound);
        // 1,500.00 + 2.25 fee is more than the buyer has: refused, nothing frozen.
        await (await ConfirmAsync(buyer, id)).AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "Insufficient funds");
        Assert.Equal((1_000m, 0m), await _market.FundsAsync(buyer));

        app.Clock.Advance(TimeSpan.FromMinutes(61));
        await (await ConfirmAsync(buyer, id)).AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "expired");
        // The sweep's timer may have run already on the advanced clock; running it again changes nothing.
        await app.Service<NegotiatedSettlement>().SweepAsync(Ct);
        var expired = await app.Client("participant", seller).GetFromJsonAsync<JsonElement>($"/api/market/negotiated/{id}", Ct);
        Assert.Equal("expired", expired.GetProperty("status").GetString());
        await Eventually.HoldsAsync(async () => await _market.HoldingAsync(seller, vintage) == (100L, 0L), "the expired deal's tonnes are back with the seller");
        Assert.Empty(await _market.TradesAsync(vintage));
        await _market.Ledger.AssertNoDriftAsync();
    }

    [Fact]
    public async Task TheSeller_CanWithdrawBeforeConfirmation_AndTheTonnesComeBack()
    {
        var vintage = await _market.NewVintageAsync();
        var seller = await _market.TraderAsync(vintage, tonnes: 50);
        var buyer = await _market.TraderAsync(vintage, yuan: 10_000m);
        var id = (await ProposedAsync(seller, buyer, vintage, 50.00m, 50)).GetProperty("id").GetString()!;
        // Frozen tonnes cannot be offered twice.
        await (await ProposeAsync(seller, buyer, vintage, 50.00m, 10)).AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "Insufficient holdings");
        await (await _market.PlaceAsync(seller, vintage, "sell", 50.00m, 10)).AssertProblemAsync(HttpStatusCode.UnprocessableEntity, "Insufficient holdings");

        await (await app.Client("participant", buyer).DeleteAsync($"/api/market/negotiated/{id}", Ct)).AssertProblemAsync(HttpStatusCode.Forbidden);
        var withdrawn = await app.Client("participant", seller).DeleteAsync($"/api/market/negotiated/{id}", Ct);
        Assert.Equal(HttpStatusCode.OK, withdrawn.StatusCode);
        Assert.Equal((50L, 0L), await _market.HoldingAsync(seller, vintage));
        await (await ConfirmAsync(buyer, id)).AssertProblemAsync(HttpStatusCode.Conflict, "withdrawn");
        Assert.Equal((10_000m, 0m), await _market.FundsAsync(buyer));
        await _market.Ledger.AssertNoDriftAsync();
    }
}
