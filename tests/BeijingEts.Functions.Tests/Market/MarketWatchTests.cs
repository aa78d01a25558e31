using BeijingEts.Functions.Lists;
using BeijingEts.Functions.Market;

namespace BeijingEts.Functions.Tests.Market;

/// <summary>The app on a fake clock (trading days pass on demand), with a burst being 3 quick cancellations.</summary>
public sealed class MarketWatchFixture : MarketClockFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
    {
        ["Ets:Market:BurstCancellations"] = "3",
    };
}

/// <summary>Price monitoring (Art. 20) and surveillance (Art. 34): what the regulator is told, and when.</summary>
public sealed class MarketWatchTests(MarketWatchFixture app) : IClassFixture<MarketWatchFixture>
{
    private readonly MarketClient _market = new(app);
    private CancellationToken Ct => TestContext.Current.CancellationToken;

    private string Today => BeijingTime.DateOf(app.Clock.GetUtcNow()).ToString("yyyy-MM-dd");

    /// <summary>One trade of <paramref name="tonnes"/> at <paramref name="price"/>, seller's order resting first; waits until both filled.</summary>
    private async Task TradeAsync(string seller, string buyer, int vintage, decimal price, long tonnes)
    {
        var sell = await _market.PlacedAsync(seller, vintage, "sell", price, tonnes);
        await _market.OrderWhenAsync(seller, sell, "open");
        var buy = await _market.PlacedAsync(buyer, vintage, "buy", price, tonnes);
        await _market.OrderWhenAsync(buyer, buy, "filled");
    }

    [Fact]
    public async Task AFinishedDay_WhoseCloseMovedBeyondTheBand_OrWhoseAverageLeftTheCorridor_RaisesOneAlertWithTheReserveLeft()
    {
        var moving = await _market.NewVintageWithReserveAsync(reserve: 2_000, reference: 50.00m);
        var cheap = await _market.NewVintageAsync(reference: 15.00m);
        var seller = await _market.TraderAsync(moving, tonnes: 100);
        await _market.Ledger.SettleAsync(_market.Regulator, "allocation", "issuance", seller, 100, vintage: cheap);
        var buyer = await _market.TraderAsync(moving, yuan: 100_000m);

        await TradeAsync(seller, buyer, moving, 50.00m, 10);
        await TradeAsync(seller, buyer, cheap, 15.00m, 10);
        var firstDay = Today;
        app.Clock.Advance(TimeSpan.FromDays(1));
        await TradeAsync(seller, buyer, moving, 58.00m, 10); // +16% on the previous close, inside the ±20% band
        var secondDay = Today;
        // Today's close is not final: nothing is raised for it yet.
        await app.Service<PriceMonitor>().RunAsync(Ct);
        var early = await _market.Regulator.GetFromJsonAsync<JsonElement[]>("/api/market/alerts", Ct) ?? [];
        Assert.DoesNotContain(early, a => a.GetProperty("alert").GetProperty("date").GetString() == secondDay);

        app.Clock.Advance(TimeSpan.FromDays(1));
        await app.Service<PriceMonitor>().RunAsync(Ct);
        await app.Service<PriceMonitor>().RunAsync(Ct); // raising again changes nothing
        var alerts = (await _market.Regulator.GetFromJsonAsync<JsonElement[]>("/api/market/alerts", Ct) ?? []).Select(a => (View: a, Alert: a.GetProperty("alert"))).ToList();

        var move = Assert.Single(alerts, a => a.Alert.GetProperty("vintage").GetInt32() == moving);
        Assert.Equal(("close-move", secondDay, 58.00m, 50.00m, 16m), (move.Alert.GetProperty("kind").GetString(), move.Alert.GetProperty("date").GetString(),
            move.Alert.GetProperty("close").GetDecimal(), move.Alert.GetProperty("previousClose").GetDecimal(), move.Alert.GetProperty("movePercent").GetDecimal()));
        Assert.Equal((2_000L, 100_000L), (move.View.GetProperty("reserve").GetProperty("held").GetInt64(), move.View.GetProperty("reserve").GetProperty("ceiling").GetInt64()));
        var low = Assert.Single(alerts, a => a.Alert.GetProperty("vintage").GetInt32() == cheap);
        Assert.Equal(("average-below-corridor", firstDay, 15.00m), (low.Alert.GetProperty("kind").GetString(), low.Alert.GetProperty("date").GetString(), low.Alert.GetProperty("fiveDayAverage").GetDecimal()));

        Assert.Equal(HttpStatusCode.Forbidden, (await _market.Exchange.GetAsync("/api/market/alerts", Ct)).StatusCode);
    }

    [Fact]
    public async Task TheDaysSurveillance_FlagsRoundTrips_RelatedParties_CancellationBursts_AndConcentration()
    {
        var vintage = await _market.NewVintageAsync();
        var a = await _market.TraderAsync(vintage, tonnes: 100, yuan: 10_000m);
        var b = await _market.TraderAsync(vintage, tonnes: 100, yuan: 10_000m);
        var c = await _market.TraderAsync(vintage, tonnes: 100);
        var d = await _market.TraderAsync(vintage, yuan: 10_000m);
        var e = await _market.TraderAsync(vintage, yuan: 10_000m);
        var whale = await _market.TraderAsync(vintage, tonnes: 1_000);
        (await _market.Regulator.PutAsJsonAsync("/api/market/related-parties", new { a = c, b = d, reason = "same parent company" }, Ct)).EnsureSuccessStatusCode();
        await (await _market.Regulator.PutAsJsonAsync("/api/market/related-parties", new { a = c, b = c }, Ct)).AssertProblemAsync(HttpStatusCode.BadRequest);

        await TradeAsync(a, b, vintage, 50.00m, 10);
        await TradeAsync(b, a, vintage, 50.00m, 10); // and back
        await TradeAsync(c, d, vintage, 50.00m, 10);
        await TradeAsync(whale, e, vintage, 50.00m, 10); // an ordinary trade
        for (var i = 0; i < 3; i++)
        {
            var order = await _market.PlacedAsync(e, vintage, "buy", 45.00m, 1);
            await _market.OrderWhenAsync(e, order, "open");
            Assert.Equal(HttpStatusCode.Accepted, (await app.Client("participant", e).DeleteAsync($"/api/market/orders/{order}", Ct)).StatusCode);
            await _market.OrderWhenAsync(e, order, "cancelled");
        }

        var report = await _market.Regulator.GetFromJsonAsync<JsonElement>($"/api/market/surveillance?date={Today}", Ct);
        var washes = report.GetProperty("washTrades").EnumerateArray().Where(w => w.GetProperty("vintage").GetInt32() == vintage).ToList();
        Assert.Equal(3, washes.Count);
        Assert.Equal(2, washes.Count(w => w.GetProperty("reason").GetString()!.StartsWith("round trip")));
        Assert.Contains(washes, w => w.GetProperty("reason").GetString()!.Contains("related") && w.GetProperty("seller").GetString() == c);
        Assert.DoesNotContain(washes, w => w.GetProperty("seller").GetString() == whale);
        var burst = Assert.Single(report.GetProperty("bursts").EnumerateArray(), x => x.GetProperty("participant").GetString() == e);
        Assert.Equal(3, burst.GetProperty("cancelled").GetInt32());
        // 1,300 t are in circulation; the whale holds 990 t of them, above the 30% line, and nobody else does.
        var concentrated = report.GetProperty("concentration").EnumerateArray().Where(x => x.GetProperty("vintage").GetInt32() == vintage).ToList();
        Assert.Equal((whale, 990L, 1_300L), (Assert.Single(concentrated).GetProperty("holder").GetString(), concentrated[0].GetProperty("quantity").GetInt64(), concentrated[0].GetProperty("circulation").GetInt64()));

        // Another day's report holds none of it.
        var yesterday = BeijingTime.DateOf(app.Clock.GetUtcNow()).AddDays(-1).ToString("yyyy-MM-dd");
        var quiet = await _market.Regulator.GetFromJsonAsync<JsonElement>($"/api/market/surveillance?date={yesterday}", Ct);
        Assert.DoesNotContain(quiet.GetProperty("washTrades").EnumerateArray(), w => w.GetProperty("vintage").GetInt32() == vintage);
        Assert.DoesNotContain(quiet.GetProperty("bursts").EnumerateArray(), x => x.GetProperty("participant").GetString() == e);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.Client("participant", a).GetAsync($"/api/market/surveillance?date={Today}", Ct)).StatusCode);
    }
}
