using BeijingEts.Functions.Tests.Ledger;
using BeijingEts.Functions.Tests.Lists;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace BeijingEts.Functions.Tests.Market;

/// <summary>The app on a fake clock at 10:00 Beijing time, so deadlines pass and trading days end when a test says; queues run on real time.</summary>
public abstract class MarketClockFixture : FastQueueFixture
{
    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 26, 2, 0, 0, TimeSpan.Zero));

    protected override void ConfigureServices(IServiceCollection services) => services.AddSingleton<TimeProvider>(Clock);
}

/// <summary>A market with one BEA vintage: issued, a reference price set, and traders with holdings and funds.</summary>
public sealed class MarketClient(EtsAppFixture app)
{
    private readonly LedgerClient _ledger = new(app);
    public HttpClient Exchange { get; } = app.Client("exchange");
    public HttpClient Regulator { get; } = app.Client("regulator");
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public LedgerClient Ledger => _ledger;

    /// <summary>A vintage nobody else in the class uses, with 1,000,000 t issued and a reference price of 50.00 yuan.</summary>
    public async Task<int> NewVintageAsync(decimal reference = 50.00m)
    {
        var vintage = NextVintage();
        Assert.Equal("completed", (await _ledger.SettleAsync(Regulator, "issuance", null, "issuance", 1_000_000, vintage: vintage)).GetProperty("status").GetString());
        (await Exchange.PutAsJsonAsync("/api/market/BEA/reference-price", new { vintage, price = reference }, Ct)).EnsureSuccessStatusCode();
        return vintage;
    }

    /// <summary>
    /// Vintages are counted per app (each test class has storage of its own), from 2031: a count shared by every class
    /// ran past what tests can add to it and stay within 2100 once enough classes had run in one process.
    /// </summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> VintagesTaken = new();

    private int NextVintage() => 2030 + VintagesTaken.AddOrUpdate(app.Prefix, 1, (_, taken) => taken + 1);

    /// <summary>A vintage nobody in the class uses, without a plan, so nothing of it can be issued (Art. 12).</summary>
    public int UnplannedVintage() => NextVintage();

    /// <summary>
    /// A new vintage under an allocation plan whose cap is 2,000,000 t (so a reserve ceiling of 100,000 t, 5%), with
    /// 1,000,000 t issued and <paramref name="reserve"/> of them allocated into the reserve account.
    /// </summary>
    public async Task<int> NewVintageWithReserveAsync(long reserve, decimal reference = 50.00m)
    {
        var vintage = NextVintage();
        await app.ApproveAsync(await Regulator.PutAsJsonAsync($"/api/allocation/{vintage}/plan", new
        {
            cap = 2_000_000,
            reserveRatio = 0.05m,
            preAllocationRatio = 0.7m,
            methods = new Dictionary<string, object> { ["power"] = new { method = "benchmark", benchmarks = new Dictionary<string, decimal> { ["electricity-mwh"] = 0.58m } } },
        }, Ct));
        Assert.Equal("completed", (await _ledger.SettleAsync(Regulator, "issuance", null, "issuance", 1_000_000, vintage: vintage)).GetProperty("status").GetString());
        if (reserve > 0) Assert.Equal("completed", (await _ledger.SettleAsync(Regulator, "allocation", "issuance", "reserve", reserve, vintage: vintage)).GetProperty("status").GetString());
        (await Exchange.PutAsJsonAsync("/api/market/BEA/reference-price", new { vintage, price = reference }, Ct)).EnsureSuccessStatusCode();
        return vintage;
    }

    /// <summary>A voluntary participant with <paramref name="tonnes"/> of the vintage and <paramref name="yuan"/> in its funds account.</summary>
    public async Task<string> TraderAsync(int vintage, long tonnes = 0, decimal yuan = 0)
    {
        var uscc = TestUnits.NewUscc();
        (await Regulator.PutAsJsonAsync($"/api/participants/{uscc}", new { name = "Trader " + uscc[^6..] }, Ct)).EnsureSuccessStatusCode();
        if (tonnes > 0) Assert.Equal("completed", (await _ledger.SettleAsync(Regulator, "allocation", "issuance", uscc, tonnes, vintage: vintage)).GetProperty("status").GetString());
        if (yuan > 0) (await Exchange.PostAsJsonAsync($"/api/market/funds/{uscc}/deposits", new { transactionId = "seed-" + uscc, amount = yuan }, Ct)).EnsureSuccessStatusCode();
        return uscc;
    }

    public Task<HttpResponseMessage> PlaceAsync(string trader, int vintage, string side, decimal price, long quantity, string? clientOrderId = null, HttpClient? client = null) =>
        (client ?? app.Client("participant", trader)).PostAsJsonAsync("/api/market/orders",
            new { clientOrderId = clientOrderId ?? Guid.NewGuid().ToString("N"), product = "BEA", vintage, side, price, quantity }, Ct);

    public async Task<string> PlacedAsync(string trader, int vintage, string side, decimal price, long quantity)
    {
        var response = await PlaceAsync(trader, vintage, side, price, quantity);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync(Ct));
        return (await response.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("orderId").GetString()!;
    }

    public async Task<JsonElement> OrderAsync(string trader, string orderId) =>
        await app.Client("participant", trader).GetFromJsonAsync<JsonElement>($"/api/market/orders/{orderId}", Ct);

    /// <summary>Waits until the order has the status (the matcher runs on a queue).</summary>
    public async Task<JsonElement> OrderWhenAsync(string trader, string orderId, string status)
    {
        JsonElement order = default;
        await Eventually.HoldsAsync(async () => (order = await OrderAsync(trader, orderId)).GetProperty("status").GetString() == status, $"order {orderId} is {status}");
        return order;
    }

    public async Task<(decimal Available, decimal Frozen)> FundsAsync(string participant)
    {
        var view = await Exchange.GetFromJsonAsync<JsonElement>($"/api/market/funds/{participant}", Ct);
        return (view.GetProperty("available").GetDecimal(), view.GetProperty("frozen").GetDecimal());
    }

    public async Task<(long Available, long Frozen)> HoldingAsync(string account, int vintage)
    {
        var view = await Regulator.GetFromJsonAsync<JsonElement>($"/api/accounts/{account}", Ct);
        var holding = view.GetProperty("holdings").EnumerateArray().Where(h => h.GetProperty("product").GetString() == "BEA" && h.GetProperty("vintage").GetInt32() == vintage).ToList();
        return holding.Count == 0 ? (0, 0) : (holding[0].GetProperty("available").GetInt64(), holding[0].GetProperty("frozen").GetInt64());
    }

    public async Task<IReadOnlyList<JsonElement>> TradesAsync(int vintage, HttpClient? client = null) =>
        (await (client ?? Exchange).GetFromJsonAsync<JsonElement>($"/api/market/trades?product=BEA&vintage={vintage}", Ct)).EnumerateArray().ToList();

    /// <summary>Waits until every trade of the vintage is settled and the ledger is at rest.</summary>
    public async Task SettledAsync(int vintage, int trades)
    {
        await Eventually.HoldsAsync(async () =>
        {
            var all = await TradesAsync(vintage);
            return all.Count == trades && all.All(t => t.GetProperty("settled").GetBoolean());
        }, $"{trades} trades of {vintage} are settled", TimeSpan.FromMinutes(5));
    }
}
