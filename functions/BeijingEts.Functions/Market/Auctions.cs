using System.Globalization;
using BeijingEts.Domain.Trading;

namespace BeijingEts.Functions.Market;

public enum AuctionStatus
{
    /// <summary>Announced; takes bids between opensAt and closesAt.</summary>
    Open,
    /// <summary>Closed to bids; the clearing is being worked out (a crash here is finished by the next timer run).</summary>
    Clearing,
    /// <summary>The price and awards are fixed and the trades recorded; they are being settled.</summary>
    Cleared,
    /// <summary>Every award settled and every unspent freeze given back.</summary>
    Settled,
}

/// <summary>What one bid won: its trade in the book's journal.</summary>
public sealed record AuctionAwardRecord(string BidId, string Bidder, long Quantity, string TradeId);

/// <summary>
/// A paid auction (有偿竞价, Art. 12, 19-20): allowances of one vintage sold from the reserve at one clearing price,
/// to sealed bids received between <c>OpensAt</c> and <c>ClosesAt</c>, no bidder wanting more than
/// <c>MaxSharePerBidder</c> (a fraction) of the quantity.
/// </summary>
public sealed record PaidAuction(
    string Id, string? ClientId, string Product, int Vintage, long Quantity, decimal ReservePrice, DateTimeOffset OpensAt, DateTimeOffset ClosesAt,
    decimal MaxSharePerBidder, AuctionStatus Status, string CreatedBy, DateTimeOffset CreatedAt,
    decimal? ClearingPrice = null, long Sold = 0, long Unsold = 0, IReadOnlyList<AuctionAwardRecord>? Awards = null, DateTimeOffset? ClearedAt = null)
{
    public BookKey Book => new(Product, Vintage);

    /// <summary>The most one bidder may bid for, in whole tonnes.</summary>
    public long MaxPerBidder => (long)decimal.Floor(Quantity * MaxSharePerBidder);

    /// <summary>Tonnes of the reserve this auction holds on to: all of it until cleared, then what it sold until settled.</summary>
    public long Committed => Status switch
    {
        AuctionStatus.Open or AuctionStatus.Clearing => Quantity,
        AuctionStatus.Cleared => Sold,
        _ => 0,
    };

    /// <summary>What the caller sees: scheduled, open or closed while bids are taken by time, then clearing, cleared, settled.</summary>
    public string Phase(DateTimeOffset now) => Status != AuctionStatus.Open ? Status.ToString().ToLowerInvariant()
        : now < OpensAt ? "scheduled"
        : now < ClosesAt ? "open"
        : "closed";

    public bool SameRequest(PaidAuction other) =>
        (Product, Vintage, Quantity, ReservePrice, OpensAt, ClosesAt, MaxSharePerBidder) == (other.Product, other.Vintage, other.Quantity, other.ReservePrice, other.OpensAt, other.ClosesAt, other.MaxSharePerBidder);

    public static string TradeId(string auctionId, int award) => $"a-{auctionId}-{award.ToString("D4", CultureInfo.InvariantCulture)}";
}

public enum BidStatus
{
    /// <summary>Recorded; its funds are being frozen.</summary>
    Pending,
    /// <summary>Funds frozen; in the auction.</summary>
    Active,
    /// <summary>Refused (funds) or not confirmed before the close.</summary>
    Rejected,
    /// <summary>Won some or all of its quantity at the clearing price.</summary>
    Awarded,
    /// <summary>Won nothing; its funds went back.</summary>
    Unsuccessful,
}

/// <summary>A sealed bid: only its bidder sees it, and the exchange and regulator once the auction has closed.</summary>
public sealed record AuctionBid(
    string BidId, string AuctionId, string Bidder, string ClientBidId, decimal Price, long Quantity, long FrozenFen, BidStatus Status,
    string? Reason, long Awarded, DateTimeOffset PlacedAt, DateTimeOffset UpdatedAt)
{
    public string FreezeId => $"auction-{AuctionId}-bid-{BidId}-freeze";
    public string ReleaseId => $"auction-{AuctionId}-bid-{BidId}-release";

    public bool SameRequest(AuctionBid other) => (Price, Quantity) == (other.Price, other.Quantity);
}

/// <summary>
/// The auctions table: a partition per auction, holding the "auction" row, a "bid-{bidId}" row per bid and a
/// "bidder-{uscc}" row with each bidder's total. A bid is added together with its bidder's total and a touch of the
/// auction row, all under ETags: so no bidder passes its share, and no bid slips in after the clearing started.
/// </summary>
public sealed class AuctionStore(StorageClients storage)
{
    private const string AuctionRow = "auction";

    private TableClient Table => storage.Table(StorageNames.Tables.Auctions);

    private static string BidRow(string bidId) => "bid-" + bidId;

    private static string BidderRow(string bidder) => "bidder-" + bidder;

    public async Task<(PaidAuction Auction, ETag ETag)?> FindAsync(string id, CancellationToken cancellationToken)
    {
        var row = await Table.GetEntityIfExistsAsync<TableEntity>(id, AuctionRow, cancellationToken: cancellationToken);
        return row.HasValue ? (DocumentRows.Read<PaidAuction>(row.Value!), row.Value!.ETag) : null;
    }

    public async Task<IReadOnlyList<PaidAuction>> ListAsync(CancellationToken cancellationToken)
    {
        var auctions = new List<PaidAuction>();
        await foreach (var row in Table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"RowKey eq {AuctionRow}"), cancellationToken: cancellationToken))
        {
            auctions.Add(DocumentRows.Read<PaidAuction>(row));
        }
        return auctions.OrderBy(a => a.ClosesAt).ThenBy(a => a.Id, StringComparer.Ordinal).ToList();
    }

    public Task<bool> TryAddAsync(PaidAuction auction, CancellationToken cancellationToken) => Table.TryWriteAsync(Entity(auction), null, cancellationToken);

    public Task<bool> TryReplaceAsync(PaidAuction auction, ETag etag, CancellationToken cancellationToken) => Table.TryWriteAsync(Entity(auction), etag, cancellationToken);

    public async Task<(AuctionBid Bid, ETag ETag)?> FindBidAsync(string auctionId, string bidId, CancellationToken cancellationToken)
    {
        var row = await Table.GetEntityIfExistsAsync<TableEntity>(auctionId, BidRow(bidId), cancellationToken: cancellationToken);
        return row.HasValue ? (DocumentRows.Read<AuctionBid>(row.Value!), row.Value!.ETag) : null;
    }

    public async Task<IReadOnlyList<(AuctionBid Bid, ETag ETag)>> BidsAsync(string auctionId, CancellationToken cancellationToken)
    {
        var bids = new List<(AuctionBid, ETag)>();
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {auctionId} and RowKey gt {"bid-"} and RowKey lt {"bid."}");
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken)) bids.Add((DocumentRows.Read<AuctionBid>(row), row.ETag));
        return bids.OrderBy(b => b.Item1.PlacedAt).ThenBy(b => b.Item1.BidId, StringComparer.Ordinal).ToList();
    }

    /// <summary>The tonnes the bidder has bid for so far (rejected bids excluded), and the row's ETag.</summary>
    public async Task<(long Total, ETag? ETag)> BidderTotalAsync(string auctionId, string bidder, CancellationToken cancellationToken)
    {
        var row = await Table.GetEntityIfExistsAsync<TableEntity>(auctionId, BidderRow(bidder), cancellationToken: cancellationToken);
        return row.HasValue ? (row.Value!.GetInt64("Total") ?? 0, row.Value!.ETag) : (0, null);
    }

    /// <summary>
    /// Adds the bid, raising its bidder's total, while the auction row and the total are as read: false when either
    /// changed (another bid, or the clearing began), so the caller reads again and decides.
    /// </summary>
    public async Task<bool> TryAddBidAsync(AuctionBid bid, ETag auctionETag, long bidderTotal, ETag? bidderETag, CancellationToken cancellationToken)
    {
        var total = new TableEntity(bid.AuctionId, BidderRow(bid.Bidder)) { ["Total"] = bidderTotal + bid.Quantity };
        try
        {
            await Table.SubmitTransactionAsync(
            [
                new(TableTransactionActionType.UpdateMerge, new TableEntity(bid.AuctionId, AuctionRow) { ["LastBidAt"] = bid.PlacedAt }, auctionETag),
                bidderETag is { } etag ? new(TableTransactionActionType.UpdateReplace, total, etag) : new(TableTransactionActionType.Add, total),
                new(TableTransactionActionType.Add, DocumentRows.Entity(bid.AuctionId, BidRow(bid.BidId), bid)),
            ], cancellationToken);
            return true;
        }
        catch (TableTransactionFailedException error) when (error.Status is 409 or 412)
        {
            return false;
        }
    }

    /// <summary>Marks the bid rejected and takes its tonnes off its bidder's total, in one write; false when either changed meanwhile.</summary>
    public async Task<bool> TryRejectBidAsync(AuctionBid rejected, ETag bidETag, CancellationToken cancellationToken)
    {
        var (total, totalETag) = await BidderTotalAsync(rejected.AuctionId, rejected.Bidder, cancellationToken);
        try
        {
            await Table.SubmitTransactionAsync(
            [
                new(TableTransactionActionType.UpdateReplace, DocumentRows.Entity(rejected.AuctionId, BidRow(rejected.BidId), rejected), bidETag),
                new(TableTransactionActionType.UpdateReplace, new TableEntity(rejected.AuctionId, BidderRow(rejected.Bidder)) { ["Total"] = total - rejected.Quantity }, totalETag ?? ETag.All),
            ], cancellationToken);
            return true;
        }
        catch (TableTransactionFailedException error) when (error.Status is 409 or 412 or 404)
        {
            return false;
        }
    }

    public Task<bool> TryReplaceBidAsync(AuctionBid bid, ETag etag, CancellationToken cancellationToken) =>
        Table.TryWriteAsync(DocumentRows.Entity(bid.AuctionId, BidRow(bid.BidId), bid), etag, cancellationToken);

    public Task PutBidAsync(AuctionBid bid, CancellationToken cancellationToken) => Table.UpsertDocumentAsync(bid.AuctionId, BidRow(bid.BidId), bid, cancellationToken);

    private static TableEntity Entity(PaidAuction auction)
    {
        var entity = DocumentRows.Entity(auction.Id, AuctionRow, auction);
        entity["Status"] = auction.Status.ToString();
        return entity;
    }
}
