using BeijingEts.Domain.Ledger;
using BeijingEts.Domain.Trading;
using BeijingEts.Functions.Ledger;

namespace BeijingEts.Functions.Market;

public enum DealStatus
{
    /// <summary>Recorded; the seller's tonnes are being frozen.</summary>
    Pending,
    /// <summary>The seller's tonnes are frozen; the buyer may confirm until the deadline.</summary>
    AwaitingConfirmation,
    /// <summary>The buyer confirmed: a trade is recorded and settles on the ledger and the funds accounts.</summary>
    Confirmed,
    /// <summary>Withdrawn by the seller before confirmation; the tonnes went back.</summary>
    Withdrawn,
    /// <summary>Not confirmed in time; the tonnes went back.</summary>
    Expired,
    /// <summary>The seller's tonnes could not be frozen.</summary>
    Rejected,
}

/// <summary>
/// A negotiated transfer (协议转让, Art. 19): the seller proposes a price and quantity to one named buyer, whose
/// confirmation before <c>ConfirmBy</c> makes it a trade. Each side pays the same fee as in public bidding.
/// </summary>
public sealed record NegotiatedDeal(
    string Id, string ClientId, string Seller, string Buyer, string Product, int Vintage, decimal Price, long Quantity,
    long BuyerFeeFen, long SellerFeeFen, DealStatus Status, string? Reason, DateTimeOffset ProposedAt, DateTimeOffset ConfirmBy,
    DateTimeOffset? ConfirmedAt, DateTimeOffset UpdatedAt, string? Lot = null)
{
    public BookKey Book => new(Product, Vintage);

    public long TurnoverFen => Money.ToFen(PriceRules.Turnover(Price, Quantity));

    /// <summary>What the buyer's confirmation freezes and then pays: turnover and the buyer's fee.</summary>
    public long BuyerCostFen => TurnoverFen + BuyerFeeFen;

    /// <summary>The trade id in its book's journal: "n-" and the deal id.</summary>
    public string TradeId => "n-" + Id;

    public bool IsOpen => Status is DealStatus.Pending or DealStatus.AwaitingConfirmation;

    public bool SameRequest(NegotiatedDeal other) => (Buyer, Product, Vintage, Price, Quantity, Lot) == (other.Buyer, other.Product, other.Vintage, other.Price, other.Quantity, other.Lot);

    public Trade ToTrade() => new(TradeId, Product, Vintage, Buyer, Seller, Id, Id, Price, Quantity, BuyerFeeFen, SellerFeeFen, ConfirmedAt ?? UpdatedAt, TradeMethods.Negotiated, Lot);

    // Ids of the movements the deal makes, derived from it so each happens once.
    public string FreezeTransactionId => LedgerIds.DealFreeze(Id);
    public string ReleaseTransactionId => LedgerIds.DealRelease(Id);
    public string BuyerFreezeId => $"deal-{Id}-buyer-freeze";
    public string BuyerReleaseId => $"deal-{Id}-buyer-release";

    /// <summary>A deal id carries its seller, so the deal is a point read from its id: "{seller}-{12 hex}".</summary>
    public static string NewId(string seller) => $"{seller}-{Guid.NewGuid():N}"[..(seller.Length + 13)];

    public static string? SellerOf(string id) => id.Length > 13 && id[^13] == '-' ? id[..^13] : null;
}

/// <summary>
/// The negotiated table: a partition per seller, a row per deal, and a "client-{clientId}" row that holds the
/// seller's id to the deal once, written together.
/// </summary>
public sealed class NegotiatedStore(StorageClients storage)
{
    private TableClient Table => storage.Table(StorageNames.Tables.Negotiated);

    private static string ClientRow(string clientId) => "client-" + clientId;

    public async Task<(NegotiatedDeal Deal, ETag ETag)?> FindAsync(string id, CancellationToken cancellationToken)
    {
        if (NegotiatedDeal.SellerOf(id) is not { } seller) return null;
        var row = await Table.GetEntityIfExistsAsync<TableEntity>(seller, id, cancellationToken: cancellationToken);
        return row.HasValue ? (DocumentRows.Read<NegotiatedDeal>(row.Value!), row.Value!.ETag) : null;
    }

    public async Task<(NegotiatedDeal Deal, ETag ETag)?> FindByClientIdAsync(string seller, string clientId, CancellationToken cancellationToken)
    {
        var row = await Table.GetEntityIfExistsAsync<TableEntity>(seller, ClientRow(clientId), cancellationToken: cancellationToken);
        return row.HasValue ? await FindAsync(row.Value!.GetString("DealId"), cancellationToken) : null;
    }

    public async Task<bool> TryAddAsync(NegotiatedDeal deal, CancellationToken cancellationToken)
    {
        try
        {
            await Table.SubmitTransactionAsync(
            [
                new(TableTransactionActionType.Add, new TableEntity(deal.Seller, ClientRow(deal.ClientId)) { ["DealId"] = deal.Id }),
                new(TableTransactionActionType.Add, Entity(deal)),
            ], cancellationToken);
            return true;
        }
        catch (TableTransactionFailedException error) when (error.Status == 409)
        {
            return false;
        }
    }

    public Task<bool> TryReplaceAsync(NegotiatedDeal deal, ETag etag, CancellationToken cancellationToken) => Table.TryWriteAsync(Entity(deal), etag, cancellationToken);

    /// <summary>Deals the participant is seller or buyer of (every deal when null), oldest first.</summary>
    public async Task<IReadOnlyList<NegotiatedDeal>> ListAsync(string? participant, CancellationToken cancellationToken)
    {
        var filter = participant is null
            ? "RowKey lt 'client-' or RowKey gt 'client.'"
            : TableClient.CreateQueryFilter($"PartitionKey eq {participant} or Buyer eq {participant}");
        return await QueryAsync(filter, cancellationToken);
    }

    /// <summary>Deals whose movements are not all made: open ones, confirmed ones not yet settled, ended ones not yet given back.</summary>
    public Task<IReadOnlyList<NegotiatedDeal>> UnfinishedAsync(CancellationToken cancellationToken) => QueryAsync("Finished eq false", cancellationToken);

    /// <summary>Records that every movement of the ended deal is made (a confirmed deal settled, an ended one's freezes given back).</summary>
    public Task MarkFinishedAsync(NegotiatedDeal deal, CancellationToken cancellationToken) =>
        Table.UpdateEntityAsync(new TableEntity(deal.Seller, deal.Id) { ["Finished"] = true }, ETag.All, TableUpdateMode.Merge, cancellationToken);

    private async Task<IReadOnlyList<NegotiatedDeal>> QueryAsync(string filter, CancellationToken cancellationToken)
    {
        var deals = new List<NegotiatedDeal>();
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            if (!row.RowKey.StartsWith("client-", StringComparison.Ordinal)) deals.Add(DocumentRows.Read<NegotiatedDeal>(row));
        }
        return deals.OrderBy(d => d.ProposedAt).ThenBy(d => d.Id, StringComparer.Ordinal).ToList();
    }

    private static TableEntity Entity(NegotiatedDeal deal)
    {
        var entity = DocumentRows.Entity(deal.Seller, deal.Id, deal);
        entity["Status"] = deal.Status.ToString();
        entity["Buyer"] = deal.Buyer;
        entity["Finished"] = false; // until its movements are all made (nothing replaces the row after that)
        return entity;
    }
}

/// <summary>
/// What moves for a negotiated deal, each movement once under an id derived from the deal: the seller's tonnes frozen
/// when proposed, the buyer's cost frozen when confirming, the trade recorded and settled once confirmed, and what was
/// frozen given back when the deal ends unconfirmed.
/// </summary>
public sealed class NegotiatedSettlement(NegotiatedStore deals, BookJournal journal, MarketSettlement settlement, TimeProvider clock, ILogger<NegotiatedSettlement> logger)
{
    /// <summary>Freezes the seller's tonnes; null when frozen, else why not.</summary>
    public async Task<string?> FreezeHoldingsAsync(NegotiatedDeal deal, CancellationToken cancellationToken)
    {
        var refusal = await settlement.FreezeHoldingsAsync(deal.FreezeTransactionId, deal.Seller, deal.Book, deal.Quantity, deal.Lot, $"negotiated deal {deal.Id}", cancellationToken);
        return refusal is null ? null : $"The holdings cannot be frozen for this deal: {refusal}";
    }

    /// <summary>Records the confirmed deal's trade and settles it now; a failure is left to the sweep, which asks again.</summary>
    public async Task SettleAsync(NegotiatedDeal deal, CancellationToken cancellationToken)
    {
        await journal.WriteTradesAsync(deal.Book, [deal.ToTrade()], cancellationToken);
        await settlement.SettleTradeAsync(deal.Book, deal.TradeId, cancellationToken);
        await deals.MarkFinishedAsync(deal, cancellationToken);
    }

    /// <summary>Gives back what an unconfirmed deal froze: the seller's tonnes, and the buyer's funds if a confirmation got as far as freezing them.</summary>
    public async Task ReleaseAsync(NegotiatedDeal deal, CancellationToken cancellationToken)
    {
        // Submitting the freeze again finishes one a crashed proposal left half-done, and records it here first if the
        // proposal never got that far, so a proposal still in flight cannot freeze after the deal ended. Whatever it
        // froze goes back.
        if (await FreezeHoldingsAsync(deal, cancellationToken) is null)
        {
            await settlement.ReleaseHoldingsAsync(deal.ReleaseTransactionId, deal.Seller, deal.Book, deal.Quantity, deal.Lot,
                $"negotiated deal {deal.Id} {deal.Status.ToString().ToLowerInvariant()}", cancellationToken);
        }
        await settlement.ReleaseFrozenFundsAsync(deal.Buyer, deal.BuyerFreezeId, deal.BuyerReleaseId, deal.BuyerCostFen, deal.Id, cancellationToken);
        await deals.MarkFinishedAsync(deal, cancellationToken);
    }

    /// <summary>Ends deals past their deadline, and finishes deals whose settlement or release stopped part-way (a crash, a storage error).</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var done = 0;
        foreach (var deal in await deals.UnfinishedAsync(cancellationToken))
        {
            if (!deal.IsOpen)
            {
                await (deal.Status == DealStatus.Confirmed ? SettleAsync(deal, cancellationToken) : ReleaseAsync(deal, cancellationToken));
                done++;
                continue;
            }
            if (deal.ConfirmBy > now) continue;
            if (await deals.FindAsync(deal.Id, cancellationToken) is not var (current, etag) || !current.IsOpen) continue;
            var expired = current with { Status = DealStatus.Expired, Reason = $"Not confirmed by the buyer before {current.ConfirmBy:u}.", UpdatedAt = now };
            if (!await deals.TryReplaceAsync(expired, etag, cancellationToken)) continue; // confirmed or withdrawn meanwhile: the next sweep sees it
            await ReleaseAsync(expired, cancellationToken);
            logger.LogInformation("Negotiated deal {Deal} expired unconfirmed; {Tonnes} t went back to {Seller}", deal.Id, deal.Quantity, deal.Seller);
            done++;
        }
        return done;
    }
}

/// <summary>Every minute: negotiated deals past their deadline expire and give back what they froze; confirmed deals whose settlement stopped are finished.</summary>
[TimerTrigger("0 * * * * *")]
public sealed class SweepNegotiatedDeals(NegotiatedSettlement settlement) : ITimerFunction
{
    public Task RunAsync(TimerTriggerInfo timer, CancellationToken cancellationToken) => settlement.SweepAsync(cancellationToken);
}
