using System.Globalization;
using BeijingEts.Functions.Audit;
using BeijingEts.Functions.Auth;
using BeijingEts.Functions.Errors;
using BeijingEts.Functions.Lists;

namespace BeijingEts.Functions.Market;

public static class ExchangeReportKinds
{
    /// <summary>The monthly report of trading (Art. 18).</summary>
    public const string Regular = "regular";
    /// <summary>A report of a major event: a halt, a system failure, a suspected manipulation (Art. 18, 34).</summary>
    public const string MajorEvent = "major-event";
}

public static class MajorEventTypes
{
    public static readonly string[] All = ["trading-halt", "system-failure", "suspected-manipulation", "other"];
}

/// <summary>A month's trading as the platform's own trade records give it: what a regular report is pre-filled with.</summary>
public sealed record TradingFigures(string Month, long VolumeT, long TurnoverFen, decimal? LowestPrice, decimal? HighestPrice, int Trades, int Participants, long FeesFen,
    int PriceAlerts, IReadOnlyDictionary<string, long> VolumeByMethodT);

/// <summary>
/// A report the exchange files with the regulator and the finance authorities (Art. 18): a regular month's figures,
/// as filed beside the platform's own (<see cref="Computed"/>, with the fields that differ), or a major event.
/// </summary>
public sealed record ExchangeReport(string Id, string Kind, DateTimeOffset FiledAt, string FiledBy, string? Month = null, TradingFigures? Filed = null,
    TradingFigures? Computed = null, IReadOnlyList<string>? Differences = null, string? AbnormalTradingHandled = null, string? EventType = null,
    DateTimeOffset? OccurredAt = null, string? Description = null, string? Measures = null);

/// <summary>The exchangereports table: one partition, a row per report keyed by its id.</summary>
public sealed class ExchangeReportStore(StorageClients storage)
{
    private const string Partition = "report";

    private TableClient Table => storage.Table(StorageNames.Tables.ExchangeReports);

    public Task AddAsync(ExchangeReport report, CancellationToken cancellationToken) => Table.AddEntityAsync(DocumentRows.Entity(Partition, report.Id, report), cancellationToken);

    public Task<ExchangeReport?> FindAsync(string id, CancellationToken cancellationToken) =>
        PlatformIds.IsValid(id) ? Table.FindDocumentAsync<ExchangeReport>(Partition, id, cancellationToken) : Task.FromResult<ExchangeReport?>(null);

    public async Task<IReadOnlyList<ExchangeReport>> ListAsync(CancellationToken cancellationToken) =>
        (await Table.ReadPartitionAsync<ExchangeReport>(Partition, cancellationToken)).OrderByDescending(r => r.FiledAt).ToList();
}

/// <summary>A month's trading from the books' trades (every method), the fees charged and the price alerts raised.</summary>
public sealed class TradingFiguresService(BookJournal journal, MarketWatchStore watch)
{
    public async Task<TradingFigures> ForMonthAsync(int year, int month, CancellationToken cancellationToken)
    {
        var first = new DateOnly(year, month, 1);
        var trades = new List<Trade>();
        foreach (var book in await journal.BooksAsync(cancellationToken))
        {
            trades.AddRange((await journal.TradesAsync(book, cancellationToken)).Select(t => t.Trade).Where(t => BeijingTime.DateOf(t.At) is var d && d >= first && d < first.AddMonths(1)));
        }
        var alerts = (await watch.AlertsAsync(cancellationToken)).Count(a => a.Date >= first && a.Date < first.AddMonths(1));
        return new TradingFigures($"{year:D4}-{month:D2}", trades.Sum(t => t.Quantity), trades.Sum(t => t.TurnoverFen),
            trades.Count == 0 ? null : trades.Min(t => t.Price), trades.Count == 0 ? null : trades.Max(t => t.Price), trades.Count,
            trades.SelectMany(t => new[] { t.Buyer, t.Seller }).Distinct(StringComparer.Ordinal).Count(), trades.Sum(t => t.BuyerFeeFen + t.SellerFeeFen), alerts,
            trades.GroupBy(t => t.MethodName, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Sum(t => t.Quantity), StringComparer.Ordinal));
    }

    /// <summary>The fields in which what the exchange files differs from the platform's own figures.</summary>
    public static IReadOnlyList<string> Differences(TradingFigures filed, TradingFigures computed)
    {
        var differences = new List<string>();
        void Compare<T>(string name, T a, T b)
        {
            if (!EqualityComparer<T>.Default.Equals(a, b)) differences.Add($"{name}: filed {a}, the platform's trades give {b}");
        }
        Compare("volumeT", filed.VolumeT, computed.VolumeT);
        Compare("turnoverFen", filed.TurnoverFen, computed.TurnoverFen);
        Compare("lowestPrice", filed.LowestPrice, computed.LowestPrice);
        Compare("highestPrice", filed.HighestPrice, computed.HighestPrice);
        Compare("trades", filed.Trades, computed.Trades);
        Compare("participants", filed.Participants, computed.Participants);
        Compare("feesFen", filed.FeesFen, computed.FeesFen);
        return differences;
    }
}

/// <summary>
/// The exchange's reports (Art. 18): GET /api/exchange/reports/draft?month=yyyy-MM (the exchange: a regular report
/// pre-filled from the platform's trades), POST /api/exchange/reports (the exchange: regular or major-event), GET
/// /api/exchange/reports and /{id} (the exchange, the regulator, the finance authorities).
/// </summary>
public sealed class ExchangeReportEndpoints : IHttpFunction
{
    public sealed record FileRequest(string Kind, string? Month = null, TradingFigures? Figures = null, string? AbnormalTradingHandled = null, string? EventType = null,
        DateTimeOffset? OccurredAt = null, string? Description = null, string? Measures = null);

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapGet("/exchange/reports/draft", DraftAsync).WithTags("Market");
        api.MapPost("/exchange/reports", FileAsync).WithTags("Market");
        api.MapGet("/exchange/reports", async (ExchangeReportStore reports, CancellationToken ct) => TypedResults.Ok(await reports.ListAsync(ct))).WithTags("Market");
        api.MapGet("/exchange/reports/{id}", async (string id, ExchangeReportStore reports, CancellationToken ct) =>
            await reports.FindAsync(id, ct) is { } report
                ? (Results<Ok<ExchangeReport>, ProblemHttpResult>)TypedResults.Ok(report)
                : ProblemHandling.NotFound($"No exchange report {id}.")).WithTags("Market");
    }

    private static bool TryMonth(string? text, TimeProvider clock, out int year, out int month, out ProblemHttpResult? problem)
    {
        (year, month, problem) = (0, 0, null);
        if (!DateOnly.TryParseExact((text ?? "") + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var first) || first.Year is < 2013 or > 2100)
        {
            problem = ProblemHandling.BadRequest($"month '{text}' is not a month: give it as yyyy-MM.");
            return false;
        }
        if (first.AddMonths(1) > BeijingTime.Today(clock))
        {
            problem = Problems.Unprocessable($"{text} has not ended; its report is filed once it has.");
            return false;
        }
        (year, month) = (first.Year, first.Month);
        return true;
    }

    private static async Task<Results<Ok<TradingFigures>, ProblemHttpResult>> DraftAsync(string? month, TradingFiguresService figures, TimeProvider clock,
        CancellationToken cancellationToken) =>
        TryMonth(month, clock, out var year, out var number, out var problem) ? TypedResults.Ok(await figures.ForMonthAsync(year, number, cancellationToken)) : problem!;

    private static async Task<Results<Created<ExchangeReport>, ProblemHttpResult>> FileAsync(FileRequest request, HttpContext http, ExchangeReportStore reports,
        TradingFiguresService figures, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        var actor = Actor.From(http.User);
        var now = clock.GetUtcNow();
        ExchangeReport report;
        if (request.Kind == ExchangeReportKinds.Regular)
        {
            if (!TryMonth(request.Month, clock, out var year, out var month, out var problem)) return problem!;
            if (request.Figures is null) return ProblemHandling.BadRequest("figures are required: the month's trading (GET /api/exchange/reports/draft pre-fills them).");
            if (request.Figures.VolumeByMethodT?.Count > 10 || request.Figures.VolumeByMethodT?.Keys.Any(k => k.Length > 40) == true)
            {
                return ProblemHandling.BadRequest("figures.volumeByMethodT names at most 10 trading methods (bidding, negotiated, auction), each up to 40 characters.");
            }
            if (request.AbnormalTradingHandled?.Length > 4000) return ProblemHandling.BadRequest("abnormalTradingHandled is over 4,000 characters.");
            if ((await reports.ListAsync(cancellationToken)).Any(r => r.Kind == ExchangeReportKinds.Regular && r.Month == request.Month))
            {
                return Problems.Conflict($"The regular report of {request.Month} is filed already.");
            }
            var computed = await figures.ForMonthAsync(year, month, cancellationToken);
            var filed = request.Figures with { Month = computed.Month };
            report = new ExchangeReport(PlatformIds.New(), ExchangeReportKinds.Regular, now, actor.Id, computed.Month, filed, computed,
                TradingFiguresService.Differences(filed, computed), request.AbnormalTradingHandled?.Trim());
        }
        else if (request.Kind == ExchangeReportKinds.MajorEvent)
        {
            var problems = new List<string>();
            if (!MajorEventTypes.All.Contains(request.EventType)) problems.Add($"eventType must be one of {string.Join(", ", MajorEventTypes.All)}.");
            if (request.OccurredAt is not { } at || at > now) problems.Add("occurredAt is when it happened: not in the future.");
            if (string.IsNullOrWhiteSpace(request.Description) || request.Description.Length > 4000) problems.Add("description must say what happened, 1 to 4,000 characters.");
            if (string.IsNullOrWhiteSpace(request.Measures) || request.Measures.Length > 4000) problems.Add("measures must say what the exchange did about it, 1 to 4,000 characters.");
            if (problems.Count > 0) return ProblemHandling.BadRequest(string.Join(" ", problems), new Dictionary<string, object?> { ["errors"] = problems });
            report = new ExchangeReport(PlatformIds.New(), ExchangeReportKinds.MajorEvent, now, actor.Id, EventType: request.EventType, OccurredAt: request.OccurredAt,
                Description: request.Description!.Trim(), Measures: request.Measures!.Trim());
        }
        else
        {
            return ProblemHandling.BadRequest($"kind must be '{ExchangeReportKinds.Regular}' or '{ExchangeReportKinds.MajorEvent}'.");
        }
        await reports.AddAsync(report, cancellationToken);
        await audit.RecordAsync(actor, $"exchange-report.{report.Kind}", $"exchange/reports/{report.Id}", null, report, cancellationToken);
        return TypedResults.Created($"/api/exchange/reports/{report.Id}", report);
    }
}

/// <summary>Auction proceeds recorded as remitted to the municipal treasury (Art. 31), once per auction.</summary>
public sealed record Remittance(string AuctionId, long AmountFen, DateOnly RemittedOn, string Reference, string RecordedBy, DateTimeOffset RecordedAt);

/// <summary>What an auction raised, and whether it was remitted.</summary>
public sealed record AuctionProceeds(string AuctionId, string Product, int Vintage, decimal? ClearingPrice, long SoldT, long ProceedsFen, Remittance? Remittance);

/// <summary>The reserve's money (Art. 31): every cleared auction's proceeds, what buy-backs spent, and the reserve's funds account.</summary>
public sealed record ProceedsView(IReadOnlyList<AuctionProceeds> Auctions, long ProceedsFen, long RemittedFen, long BuyBacksBoughtT, long BuyBacksSpentFen, FundsBalance ReserveFunds);

/// <summary>The remittances, in the exchange reports' table under a partition of their own.</summary>
public sealed class RemittanceStore(StorageClients storage)
{
    private const string Partition = "remittance";

    private TableClient Table => storage.Table(StorageNames.Tables.ExchangeReports);

    public Task<bool> TryAddAsync(Remittance remittance, CancellationToken cancellationToken) =>
        Table.TryWriteAsync(DocumentRows.Entity(Partition, remittance.AuctionId, remittance), null, cancellationToken);

    public async Task<IReadOnlyDictionary<string, Remittance>> ReadAllAsync(CancellationToken cancellationToken) =>
        (await Table.ReadPartitionAsync<Remittance>(Partition, cancellationToken)).ToDictionary(r => r.AuctionId, StringComparer.Ordinal);
}

/// <summary>GET /api/market/proceeds (the regulator, the exchange, the finance authorities); POST /api/auctions/{id}/remittance (regulator).</summary>
public sealed class ProceedsEndpoints : IHttpFunction
{
    public sealed record RemittanceRequest(DateOnly RemittedOn, string Reference);

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapGet("/market/proceeds", ProceedsAsync).WithTags("Market");
        api.MapPost("/auctions/{id}/remittance", RemitAsync).WithTags("Market");
    }

    private static long Proceeds(PaidAuction auction) =>
        auction.ClearingPrice is { } price ? Money.ToFen(Domain.Trading.PriceRules.Turnover(price, auction.Sold)) : 0;

    private static async Task<Ok<ProceedsView>> ProceedsAsync(AuctionStore auctions, RemittanceStore remittances, BookJournal journal, FundsStore funds,
        CancellationToken cancellationToken)
    {
        var remitted = await remittances.ReadAllAsync(cancellationToken);
        var cleared = (await auctions.ListAsync(cancellationToken)).Where(a => a.ClearingPrice is not null)
            .Select(a => new AuctionProceeds(a.Id, a.Product, a.Vintage, a.ClearingPrice, a.Sold, Proceeds(a), remitted.GetValueOrDefault(a.Id))).ToList();
        var bought = new List<Trade>();
        foreach (var book in await journal.BooksAsync(cancellationToken))
        {
            bought.AddRange((await journal.TradesAsync(book, cancellationToken)).Select(t => t.Trade).Where(t => t.Buyer == Domain.Ledger.RegulatorAccounts.Reserve));
        }
        return TypedResults.Ok(new ProceedsView(cleared, cleared.Sum(a => a.ProceedsFen), cleared.Sum(a => a.Remittance?.AmountFen ?? 0), bought.Sum(t => t.Quantity),
            bought.Sum(t => t.TurnoverFen + t.BuyerFeeFen), await funds.BalanceAsync(AuctionHouse.ReserveFunds, cancellationToken)));
    }

    private static async Task<Results<Created<Remittance>, ProblemHttpResult>> RemitAsync(string id, RemittanceRequest request, HttpContext http, AuctionStore auctions,
        RemittanceStore remittances, AuditLog audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        var reference = request.Reference?.Trim() ?? "";
        if (reference.Length is 0 or > 200) return ProblemHandling.BadRequest("reference must name the treasury's receipt or transfer, 1 to 200 characters.");
        if (request.RemittedOn > BeijingTime.Today(clock)) return ProblemHandling.BadRequest("remittedOn is when the money went to the treasury: not in the future.");
        var auction = (await auctions.ListAsync(cancellationToken)).FirstOrDefault(a => a.Id == id);
        if (auction is null) return ProblemHandling.NotFound($"No auction {id}.");
        if (auction.ClearingPrice is null || auction.Sold == 0) return Problems.Unprocessable($"Auction {id} has raised nothing (it is {auction.Status}); only proceeds are remitted.");
        var actor = Actor.From(http.User);
        var remittance = new Remittance(id, Proceeds(auction), request.RemittedOn, reference, actor.Id, clock.GetUtcNow());
        if (!await remittances.TryAddAsync(remittance, cancellationToken)) return Problems.Conflict($"Auction {id}'s proceeds are already recorded as remitted.");
        await audit.RecordAsync(actor, "auction.remitted", $"auctions/{id}", null, remittance, cancellationToken);
        return TypedResults.Created($"/api/market/proceeds", remittance);
    }
}
