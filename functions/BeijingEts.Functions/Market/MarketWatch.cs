using System.Globalization;
using BeijingEts.Domain.Ledger;
using BeijingEts.Functions.Ledger;
using BeijingEts.Functions.Lists;

namespace BeijingEts.Functions.Market;

public static class AlertKinds
{
    /// <summary>The close moved from the previous close by more than the alert band.</summary>
    public const string CloseMove = "close-move";
    /// <summary>The average close of the last (up to) 5 trading days fell below the corridor.</summary>
    public const string AverageBelowCorridor = "average-below-corridor";
    /// <summary>The average close of the last (up to) 5 trading days rose above the corridor.</summary>
    public const string AverageAboveCorridor = "average-above-corridor";
}

/// <summary>A price alert for the regulator (Art. 20), raised once per book, trading day and kind.</summary>
public sealed record PriceAlert(string Id, string Product, int Vintage, DateOnly Date, string Kind, string Detail, decimal Close, decimal? PreviousClose,
    decimal? MovePercent, decimal FiveDayAverage, int DaysAveraged, DateTimeOffset RaisedAt);

/// <summary>Two participants the regulator declared related (Art. 34): their trades with each other are surveilled.</summary>
public sealed record RelatedParties(string A, string B, string? Reason, string DeclaredBy, DateTimeOffset DeclaredAt)
{
    /// <summary>The pair in one order, so it has one key whichever way it is named.</summary>
    public static (string A, string B) Ordered(string x, string y) => string.CompareOrdinal(x, y) <= 0 ? (x, y) : (y, x);
}

/// <summary>The marketwatch table: price alerts (partition "alert") and declared related parties (partition "related").</summary>
public sealed class MarketWatchStore(StorageClients storage)
{
    private const string AlertPartition = "alert";
    private const string RelatedPartition = "related";

    private TableClient Table => storage.Table(StorageNames.Tables.MarketWatch);

    /// <summary>Records the alert unless one of its id (book, day, kind) is on record already; true when it is new.</summary>
    public Task<bool> TryRaiseAsync(PriceAlert alert, CancellationToken cancellationToken) =>
        Table.TryWriteAsync(DocumentRows.Entity(AlertPartition, alert.Id, alert), null, cancellationToken);

    public async Task<IReadOnlyList<PriceAlert>> AlertsAsync(CancellationToken cancellationToken) =>
        (await Table.ReadPartitionAsync<PriceAlert>(AlertPartition, cancellationToken)).OrderBy(a => a.Date).ThenBy(a => a.Id, StringComparer.Ordinal).ToList();

    public Task DeclareAsync(RelatedParties pair, CancellationToken cancellationToken) =>
        Table.UpsertDocumentAsync(RelatedPartition, $"{pair.A}|{pair.B}", pair, cancellationToken);

    public async Task<bool> RemoveAsync(string a, string b, CancellationToken cancellationToken)
    {
        var (x, y) = RelatedParties.Ordered(a, b);
        // DeleteEntity answers a missing entity with a 404 response rather than an exception.
        var response = await Table.DeleteEntityAsync(RelatedPartition, $"{x}|{y}", ETag.All, cancellationToken);
        return response.Status != 404;
    }

    public Task<IReadOnlyList<RelatedParties>> RelatedAsync(CancellationToken cancellationToken) => Table.ReadPartitionAsync<RelatedParties>(RelatedPartition, cancellationToken);
}

/// <summary>
/// Price monitoring (Art. 20): for each BEA book and each finished trading day, an alert when the close moved from the
/// previous close by more than Ets:Market:AlertMovePercent, or when the average close of the last 5 trading days (fewer
/// in a market's first days) left the corridor Ets:Market:CorridorLow to CorridorHigh. The closes are public bidding's,
/// the prices that set the band. Each alert is raised once, however often the monitor runs.
/// </summary>
public sealed class PriceMonitor(BookJournal journal, MarketWatchStore watch, MarketSettings settings, TimeProvider clock, ILogger<PriceMonitor> logger)
{
    private const int AverageDays = 5;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var today = BeijingTime.Today(clock);
        var raised = 0;
        foreach (var book in (await journal.BooksAsync(cancellationToken)).Where(b => b.Product == Products.Bea))
        {
            var trades = (await journal.TradesAsync(book, cancellationToken)).Select(t => t.Trade).Where(t => t.MethodName == TradeMethods.Bidding);
            var bars = DailyBar.From(trades).Where(b => b.Date < today).ToList();
            for (var i = 0; i < bars.Count; i++)
            {
                foreach (var alert in Check(book, bars, i))
                {
                    if (!await watch.TryRaiseAsync(alert, cancellationToken)) continue;
                    raised++;
                    logger.LogWarning("Price alert {Kind} for {Book} on {Date}: {Detail}", alert.Kind, book, alert.Date, alert.Detail);
                }
            }
        }
        return raised;
    }

    private IEnumerable<PriceAlert> Check(BookKey book, IReadOnlyList<DailyBar> bars, int i)
    {
        var day = bars[i];
        var previous = i > 0 ? bars[i - 1].Close : (decimal?)null;
        var window = bars.Skip(Math.Max(0, i - AverageDays + 1)).Take(Math.Min(AverageDays, i + 1)).ToList();
        var average = decimal.Round(window.Average(b => b.Close), 2, MidpointRounding.AwayFromZero);
        var move = previous is { } p ? decimal.Round((day.Close - p) / p * 100, 2, MidpointRounding.AwayFromZero) : (decimal?)null;
        var now = clock.GetUtcNow();
        PriceAlert Alert(string kind, string detail) =>
            new($"{day.Date:yyyy-MM-dd}|{book}|{kind}", book.Product, book.Vintage, day.Date, kind, detail, day.Close, previous, move, average, window.Count, now);

        if (move is { } m && Math.Abs(m) > settings.AlertMovePercent)
        {
            yield return Alert(AlertKinds.CloseMove, $"{book} closed at {day.Close} on {day.Date:yyyy-MM-dd}, {m:+0.##;-0.##}% from the previous close of {previous}; the alert band is ±{settings.AlertMovePercent}%.");
        }
        if (average < settings.CorridorLow)
        {
            yield return Alert(AlertKinds.AverageBelowCorridor, $"{book}'s average close over {window.Count} trading day(s) to {day.Date:yyyy-MM-dd} is {average}, below the corridor's floor of {settings.CorridorLow} yuan.");
        }
        if (average > settings.CorridorHigh)
        {
            yield return Alert(AlertKinds.AverageAboveCorridor, $"{book}'s average close over {window.Count} trading day(s) to {day.Date:yyyy-MM-dd} is {average}, above the corridor's ceiling of {settings.CorridorHigh} yuan.");
        }
    }
}

/// <summary>Every 5 minutes: raises the price alerts of finished trading days not raised yet (Art. 20).</summary>
[TimerTrigger("0 */5 * * * *")]
public sealed class MonitorPrices(PriceMonitor monitor) : ITimerFunction
{
    public Task RunAsync(TimerTriggerInfo timer, CancellationToken cancellationToken) => monitor.RunAsync(cancellationToken);
}

public sealed record WashTradeFlag(string TradeId, string Product, int Vintage, string Buyer, string Seller, decimal Price, long Quantity, DateTimeOffset At,
    string Reason, string? OtherTradeId);

public sealed record BurstFlag(string Participant, int Cancelled, DateTimeOffset From, DateTimeOffset To, IReadOnlyList<string> OrderIds);

public sealed record ConcentrationFlag(string Product, int Vintage, string Holder, long Quantity, long Circulation, decimal SharePercent);

public sealed record SurveillanceReport(DateOnly Date, IReadOnlyList<WashTradeFlag> WashTrades, IReadOnlyList<BurstFlag> Bursts,
    IReadOnlyList<ConcentrationFlag> Concentration, int WashTradeDays, int BurstCancellations, double BurstWindowSeconds, decimal ConcentrationPercent);

/// <summary>
/// Surveillance (Art. 34), for one Beijing trading day: possible wash trades (a trade whose counterparties traded the
/// other way round in the same book within Ets:Market:WashTradeDays days, or who are declared related parties), bursts
/// of orders placed and cancelled (a participant cancelling at least BurstCancellations of its own orders, each placed
/// and cancelled within one BurstWindow), and concentration (a holder with more than ConcentrationPercent of a traded
/// vintage in circulation, as held now).
/// </summary>
public sealed class Surveillance(BookJournal journal, OrderStore orders, LedgerStore ledger, MarketWatchStore watch, MarketSettings settings)
{
    public async Task<SurveillanceReport> RunAsync(DateOnly date, CancellationToken cancellationToken)
    {
        var books = await journal.BooksAsync(cancellationToken);
        var washes = new List<WashTradeFlag>();
        var related = (await watch.RelatedAsync(cancellationToken)).Select(r => (r.A, r.B)).ToHashSet();
        foreach (var book in books) washes.AddRange(WashTrades(await journal.TradesAsync(book, cancellationToken), date, related));
        var bursts = Bursts(await orders.ListAsync(null, OrderStatus.Cancelled, cancellationToken), date);
        var concentration = new List<ConcentrationFlag>();
        foreach (var book in books.Where(b => b.Product == Products.Bea)) concentration.AddRange(await ConcentrationAsync(book, cancellationToken));
        return new SurveillanceReport(date, washes, bursts, concentration, settings.WashTradeDays, settings.BurstCancellations, settings.BurstWindow.TotalSeconds, settings.ConcentrationPercent);
    }

    private IEnumerable<WashTradeFlag> WashTrades(IReadOnlyList<(Trade Trade, bool Settled)> book, DateOnly date, HashSet<(string, string)> related)
    {
        // Auctions sell from the reserve and buy-backs buy into it: the regulator's own trades are not wash trades.
        var trades = book.Select(t => t.Trade).Where(t => !RegulatorAccounts.Is(t.Buyer) && !RegulatorAccounts.Is(t.Seller)).ToList();
        var window = TimeSpan.FromDays(settings.WashTradeDays);
        foreach (var trade in trades.Where(t => BeijingTime.DateOf(t.At) == date))
        {
            var back = trades.FirstOrDefault(u => u.Buyer == trade.Seller && u.Seller == trade.Buyer && (u.At - trade.At).Duration() <= window);
            if (back is not null)
            {
                yield return Flag(trade, $"round trip: {trade.Seller} sold to {trade.Buyer} and {trade.Buyer} sold back within {settings.WashTradeDays} day(s)", back);
            }
            else if (related.Contains(RelatedParties.Ordered(trade.Buyer, trade.Seller)))
            {
                yield return Flag(trade, $"between related parties {trade.Seller} and {trade.Buyer}", null);
            }
        }
    }

    private static WashTradeFlag Flag(Trade t, string reason, Trade? other) =>
        new($"{t.Product}-{t.Vintage}-{t.TradeId}", t.Product, t.Vintage, t.Buyer, t.Seller, t.Price, t.Quantity, t.At, reason, other is null ? null : $"{other.Product}-{other.Vintage}-{other.TradeId}");

    private List<BurstFlag> Bursts(IReadOnlyList<MarketOrder> cancelled, DateOnly date)
    {
        var flags = new List<BurstFlag>();
        // Orders the participant itself cancelled that day, within one window of being placed.
        var flashed = cancelled.Where(o => BeijingTime.DateOf(o.UpdatedAt) == date && o.Reason == OrderEndpoints.CancelledByParticipant && o.UpdatedAt - o.PlacedAt <= settings.BurstWindow);
        foreach (var participant in flashed.GroupBy(o => o.Participant))
        {
            var list = participant.OrderBy(o => o.PlacedAt).ToList();
            var best = new List<MarketOrder>();
            foreach (var first in list)
            {
                var inWindow = list.Where(o => o.PlacedAt >= first.PlacedAt && o.UpdatedAt <= first.PlacedAt + settings.BurstWindow).ToList();
                if (inWindow.Count > best.Count) best = inWindow;
            }
            if (best.Count >= settings.BurstCancellations)
            {
                flags.Add(new BurstFlag(participant.Key, best.Count, best.Min(o => o.PlacedAt), best.Max(o => o.UpdatedAt), best.Select(o => o.OrderId).ToList()));
            }
        }
        return flags;
    }

    private async Task<IEnumerable<ConcentrationFlag>> ConcentrationAsync(BookKey book, CancellationToken cancellationToken)
    {
        // What is frozen for sell orders is still its holder's.
        var holdings = (await ledger.HoldersAsync(book.Product, book.Vintage, cancellationToken))
            .Select(h => (Holder: FrozenAccounts.Is(h.Account) ? FrozenAccounts.HolderOf(h.Account) : h.Account, h.Quantity.Value))
            .Where(h => !RegulatorAccounts.Is(h.Holder))
            .GroupBy(h => h.Holder).Select(g => (Holder: g.Key, Quantity: g.Sum(h => h.Value))).ToList();
        var circulation = holdings.Sum(h => h.Quantity);
        if (circulation == 0) return [];
        return holdings
            .Select(h => new ConcentrationFlag(book.Product, book.Vintage, h.Holder, h.Quantity, circulation, decimal.Round(h.Quantity * 100m / circulation, 2, MidpointRounding.AwayFromZero)))
            .Where(f => f.Quantity * 100m / circulation > settings.ConcentrationPercent)
            .OrderByDescending(f => f.Quantity).ToList();
    }
}
