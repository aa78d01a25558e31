namespace BeijingEts.Functions.Tests.Market;

public sealed class ExchangeReportFixture : MarketClockFixture;

/// <summary>Art. 18, 31: the exchange's regular and major-event reports, pre-filled from the platform's trades, read by the regulator and the finance authorities.</summary>
public sealed class ExchangeReportTests(ExchangeReportFixture app) : IClassFixture<ExchangeReportFixture>
{
    private readonly MarketClient _market = new(app);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AMonthsReport_IsPreFilledFromTheTrades_FiledWithItsDifferences_AndReadByTheFinanceAuthorities()
    {
        var month = app.Clock.GetUtcNow().AddHours(8).ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture);
        var vintage = await _market.NewVintageAsync();
        var seller = await _market.TraderAsync(vintage, tonnes: 100);
        var buyer = await _market.TraderAsync(vintage, yuan: 10_000m);
        await _market.PlacedAsync(seller, vintage, "sell", 50.00m, 60);
        await _market.PlacedAsync(buyer, vintage, "buy", 50.00m, 60);
        await _market.SettledAsync(vintage, trades: 1);

        var early = await _market.Exchange.GetAsync($"/api/exchange/reports/draft?month={month}", Ct);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, early.StatusCode);
        app.Clock.Advance(TimeSpan.FromDays(10));
        var draft = await _market.Exchange.GetFromJsonAsync<JsonElement>($"/api/exchange/reports/draft?month={month}", Ct);
        // 60 t at 50.00: 3,000.00 turnover, 4.50 fee a side.
        Assert.Equal((60L, 300_000L, 50.00m, 50.00m, 1, 2, 900L), (draft.GetProperty("volumeT").GetInt64(), draft.GetProperty("turnoverFen").GetInt64(),
            draft.GetProperty("lowestPrice").GetDecimal(), draft.GetProperty("highestPrice").GetDecimal(), draft.GetProperty("trades").GetInt32(),
            draft.GetProperty("participants").GetInt32(), draft.GetProperty("feesFen").GetInt64()));

        var figures = JsonSerializer.Deserialize<Dictionary<string, object>>(draft.GetRawText())!;
        figures["volumeT"] = 59;
        var filed = await _market.Exchange.PostAsJsonAsync("/api/exchange/reports", new { kind = "regular", month, figures, abnormalTradingHandled = "No abnormal trading." }, Ct);
        Assert.Equal(HttpStatusCode.Created, filed.StatusCode);
        var report = await filed.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Contains("volumeT: filed 59, the platform's trades give 60", Assert.Single(report.GetProperty("differences").EnumerateArray()).GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await _market.Exchange.PostAsJsonAsync("/api/exchange/reports", new { kind = "regular", month, figures }, Ct)).StatusCode);

        Assert.Equal(HttpStatusCode.BadRequest, (await _market.Exchange.PostAsJsonAsync("/api/exchange/reports",
            new { kind = "major-event", eventType = "system-failure", occurredAt = app.Clock.GetUtcNow().AddHours(-2), description = "Matching engine stalled for 12 minutes." }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await _market.Exchange.PostAsJsonAsync("/api/exchange/reports", new
        {
            kind = "major-event", eventType = "system-failure", occurredAt = app.Clock.GetUtcNow().AddHours(-2),
            description = "Matching engine stalled for 12 minutes.", measures = "Trading halted, orders kept, restarted at 10:42.",
        }, Ct)).StatusCode);

        var finance = app.Client("finance");
        var reports = await finance.GetFromJsonAsync<JsonElement>("/api/exchange/reports", Ct);
        Assert.Equal(["major-event", "regular"], reports.EnumerateArray().Select(r => r.GetProperty("kind").GetString()).Order(StringComparer.Ordinal));
        Assert.Equal(HttpStatusCode.Forbidden, (await finance.PostAsJsonAsync("/api/exchange/reports", new { kind = "major-event" }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await finance.GetAsync($"/api/exchange/reports/draft?month={month}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.Client("unit", seller).GetAsync("/api/exchange/reports", Ct)).StatusCode);
        Assert.Contains((await finance.GetFromJsonAsync<JsonElement>($"/api/market/trades?vintage={vintage}", Ct)).EnumerateArray(), t => t.GetProperty("seller").GetString() == seller);
        Assert.Equal(HttpStatusCode.OK, (await app.Client("regulator").GetAsync($"/api/exchange/reports/{report.GetProperty("id").GetString()}", Ct)).StatusCode);
    }
}
