using BeijingEts.Functions.Market;

namespace BeijingEts.Functions.Tests.Market;

public sealed class MatchingConcurrencyFixture : FastQueueFixture;

/// <summary>
/// Runs alone, after the parallel tests: classes that load the one Azurite hard (two app instances and 32 clients, a fuzz
/// or role sweep of every endpoint, a 200-unit year) would otherwise starve the others' queues and timers (and be starved).
/// </summary>
[CollectionDefinition(nameof(RunsAlone), DisableParallelization = true)]
public sealed class RunsAlone;

/// <summary>
/// Orders for one book are matched in one sequence however many instances run: 32 clients place 2,000 random orders
/// through two app instances on the same storage, and the trades are exactly those of the recorded sequence replayed
/// through the matcher alone, with no funds or holdings below zero and the ledger conserving every tonne.
/// </summary>
[Collection(nameof(RunsAlone))]
public sealed class MatchingConcurrencyTests(MatchingConcurrencyFixture app) : IClassFixture<MatchingConcurrencyFixture>
{
    private readonly MarketClient _market = new(app);
    private CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ThirtyTwoClientsOnTwoInstances_TradeExactlyAsTheSequenceReplayedAlone()
    {
        const int Orders = 2_000; // enough for thousands of races between the instances; the benchmark (trading.orders) measures volume
        var vintage = await _market.NewVintageAsync(reference: 50.00m);
        var traders = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => _market.TraderAsync(vintage, tonnes: 20_000, yuan: 2_000_000m)));
        var (second, secondAddress) = await app.StartAnotherInstanceAsync();
        try
        {
            var random = new Random(20240501);
            var plan = Enumerable.Range(0, Orders).Select(i => (
                Trader: traders[random.Next(traders.Length)], Side: random.Next(2) == 0 ? "buy" : "sell",
                Price: 49.00m + random.Next(0, 201) / 100m, Quantity: (long)random.Next(1, 30))).ToList();
            var clients = Enumerable.Range(0, 32).Select(c => traders.ToDictionary(t => t, t => app.Client(c % 2 == 0 ? app.BaseAddress : secondAddress, "participant", t))).ToList();
            var next = -1;
            var watch = System.Diagnostics.Stopwatch.StartNew();
            await Task.WhenAll(clients.Select(async client =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < Orders)
                {
                    var order = plan[i];
                    var response = await _market.PlaceAsync(order.Trader, vintage, order.Side, order.Price, order.Quantity, $"o{i}", client[order.Trader]);
                    Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync(Ct));
                }
            }));

            // Every order matched: the book's marker reaches the last of the commands.
            await Eventually.HoldsAsync(async () =>
                (await app.Client().GetFromJsonAsync<JsonElement>($"/api/market/BEA/book?vintage={vintage}", Ct)).GetProperty("sequence").GetInt64() == Orders,
                $"all {Orders} orders are matched", TimeSpan.FromMinutes(5));
            TestContext.Current.TestOutputHelper?.WriteLine($"placed and matched in {watch.Elapsed.TotalSeconds:F1} s");

            var book = new BookKey("BEA", vintage);
            var commands = await app.Service<BookJournal>().CommandsAsync(book, 0, Orders, Ct);
            Assert.Equal(Enumerable.Range(1, Orders).Select(i => (long)i), commands.Select(c => c.Sequence));
            var alone = new BookState(book, app.Service<MarketSettings>());
            var expected = new MatchEffects();
            foreach (var command in commands) alone.Apply(command, expected);
            Assert.NotEmpty(expected.Trades);

            await _market.SettledAsync(vintage, expected.Trades.Count);
            TestContext.Current.TestOutputHelper?.WriteLine($"{expected.Trades.Count} trades settled at {watch.Elapsed.TotalSeconds:F1} s");
            var actual = await _market.TradesAsync(vintage);
            Assert.Equal(
                expected.Trades.Select(t => ((string?)$"BEA-{vintage}-{t.TradeId}", (string?)t.Buyer, (string?)t.Seller, t.Price, t.Quantity)),
                actual.Select(t => (t.GetProperty("tradeId").GetString(), t.GetProperty("buyer").GetString(), t.GetProperty("seller").GetString(), t.GetProperty("price").GetDecimal(), t.GetProperty("quantity").GetInt64())));

            // Nothing below zero, and money and tonnes are all accounted for once the releases are done.
            var openBuys = (await app.Client("exchange").GetFromJsonAsync<JsonElement>("/api/market/orders", Ct)).EnumerateArray()
                .Where(o => o.GetProperty("side").GetString() == "buy" && o.GetProperty("status").GetString() is "open" or "partially-filled").ToList();
            await Eventually.HoldsAsync(async () =>
            {
                var funds = await Task.WhenAll(traders.Select(_market.FundsAsync));
                var fees = await _market.FundsAsync(MarketSettlement.ExchangeAccount);
                Assert.All(funds, f => Assert.True(f.Available >= 0 && f.Frozen >= 0));
                return funds.Sum(f => f.Available + f.Frozen) + fees.Available == traders.Length * 2_000_000m;
            }, "every yuan deposited is in a funds account or the exchange's fees", TimeSpan.FromMinutes(2));
            var holdings = await Task.WhenAll(traders.Select(t => _market.HoldingAsync(t, vintage)));
            Assert.All(holdings, h => Assert.True(h.Available >= 0 && h.Frozen >= 0));
            Assert.Equal(traders.Length * 20_000L, holdings.Sum(h => h.Available + h.Frozen));
            await Eventually.HoldsAsync(async () => (await _market.Ledger.CheckAsync()).GetProperty("inFlight").GetInt32() == 0, "the ledger is at rest");
            await _market.Ledger.AssertNoDriftAsync();
            Assert.NotEmpty(openBuys);
        }
        finally
        {
            await second.StopAsync(CancellationToken.None);
            await second.DisposeAsync();
        }
    }
}
