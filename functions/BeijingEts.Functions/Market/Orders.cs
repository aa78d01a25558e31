using BeijingEts.Domain.Trading;

namespace BeijingEts.Functions.Market;

public enum OrderStatus
{
    /// <summary>Recorded; its funds or holdings are being frozen.</summary>
    Pending,
    /// <summary>In the book (or on its way to the matcher), nothing traded yet.</summary>
    Open,
    PartiallyFilled,
    Filled,
    Cancelled,
    /// <summary>Refused with a reason: not enough funds or holdings, or it would have traded with its own participant.</summary>
    Rejected,
}

/// <summary>A participant's order, as it stands: what was asked, what traded, and what is frozen for it. A BCER sell order names the lot it delivers.</summary>
public sealed record MarketOrder(
    string OrderId, string ClientOrderId, string Participant, string Product, int Vintage, Side Side, decimal Price, long Quantity,
    long Filled, OrderStatus Status, string? Reason, long FrozenFen, DateTimeOffset PlacedAt, DateTimeOffset UpdatedAt, long? Sequence = null, string? Lot = null)
{
    public BookKey Book => new(Product, Vintage);

    public bool IsFinal => Status is OrderStatus.Filled or OrderStatus.Cancelled or OrderStatus.Rejected;

    /// <summary>Same order as another under the same client id: what was asked, not what became of it.</summary>
    public bool SameRequest(MarketOrder other) =>
        (Product, Vintage, Side, Price, Quantity, Lot) == (other.Product, other.Vintage, other.Side, other.Price, other.Quantity, other.Lot);
}

/// <summary>
/// The orders table: a partition per participant, a row per order and a "client-{clientOrderId}" row that holds the
/// client's id to the order once, written together.
/// </summary>
public sealed class OrderStore(StorageClients storage)
{
    private TableClient Table => storage.Table(StorageNames.Tables.Orders);

    private static string ClientRow(string clientOrderId) => "client-" + clientOrderId;

    public async Task<(MarketOrder Order, ETag ETag)?> FindAsync(string participant, string orderId, CancellationToken cancellationToken)
    {
        var row = await Table.GetEntityIfExistsAsync<TableEntity>(participant, orderId, cancellationToken: cancellationToken);
        return row.HasValue ? (DocumentRows.Read<MarketOrder>(row.Value!), row.Value!.ETag) : null;
    }

    /// <summary>The order with the id, whoever placed it (for the exchange and the regulator): one query on the row key.</summary>
    public async Task<MarketOrder?> FindAnyAsync(string orderId, CancellationToken cancellationToken)
    {
        await foreach (var row in Table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"RowKey eq {orderId}"), cancellationToken: cancellationToken))
        {
            return DocumentRows.Read<MarketOrder>(row);
        }
        return null;
    }

    public async Task<(MarketOrder Order, ETag ETag)?> FindByClientIdAsync(string participant, string clientOrderId, CancellationToken cancellationToken)
    {
        var row = await Table.GetEntityIfExistsAsync<TableEntity>(participant, ClientRow(clientOrderId), cancellationToken: cancellationToken);
        return row.HasValue ? await FindAsync(participant, row.Value!.GetString("OrderId"), cancellationToken) : null;
    }

    /// <summary>Adds the order under its client id; false if the client id was taken meanwhile.</summary>
    public async Task<bool> TryAddAsync(MarketOrder order, CancellationToken cancellationToken) => await AddAsync(order, cancellationToken) is not null;

    /// <summary>Adds the order under its client id and gives the order row's ETag; null if the client id was taken meanwhile.</summary>
    public async Task<ETag?> AddAsync(MarketOrder order, CancellationToken cancellationToken)
    {
        try
        {
            var written = await Table.SubmitTransactionAsync(
            [
                new(TableTransactionActionType.Add, new TableEntity(order.Participant, ClientRow(order.ClientOrderId)) { ["OrderId"] = order.OrderId }),
                new(TableTransactionActionType.Add, Entity(order)),
            ], cancellationToken);
            return written.Value.Count == 2 && written.Value[1].Headers.ETag is { } etag ? etag
                : (await FindAsync(order.Participant, order.OrderId, cancellationToken))!.Value.ETag;
        }
        catch (TableTransactionFailedException error) when (error.Status == 409)
        {
            return null;
        }
    }

    public Task<bool> TryReplaceAsync(MarketOrder order, ETag etag, CancellationToken cancellationToken) =>
        Table.TryWriteAsync(Entity(order), etag, cancellationToken);

    /// <summary>The matcher's view of the order (status and fill), written whole: the matcher is the only writer once an order is open.</summary>
    public Task PutAsync(MarketOrder order, CancellationToken cancellationToken) =>
        Table.UpsertEntityAsync(Entity(order), TableUpdateMode.Replace, cancellationToken);

    /// <summary><see cref="PutAsync"/> for many orders: one write per participant (up to a hundred orders each), the participants in parallel.</summary>
    public Task PutManyAsync(IEnumerable<MarketOrder> orders, CancellationToken cancellationToken) =>
        Parallel.ForEachAsync(orders.GroupBy(o => o.Participant, StringComparer.Ordinal).SelectMany(p => p.Chunk(TableBatches.MaxBatch)),
            new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken },
            async (chunk, ct) => await Table.SubmitTransactionAsync(chunk.Select(o => new TableTransactionAction(TableTransactionActionType.UpsertReplace, Entity(o))), ct));

    public async Task<IReadOnlyList<MarketOrder>> ListAsync(string? participant, OrderStatus? status, CancellationToken cancellationToken)
    {
        var filter = participant is null ? "RowKey lt 'client-' or RowKey gt 'client.'" : TableClient.CreateQueryFilter($"PartitionKey eq {participant}");
        var orders = new List<MarketOrder>();
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            if (row.RowKey.StartsWith("client-", StringComparison.Ordinal)) continue;
            var order = DocumentRows.Read<MarketOrder>(row);
            if (status is null || order.Status == status) orders.Add(order);
        }
        return orders.OrderBy(o => o.PlacedAt).ThenBy(o => o.OrderId, StringComparer.Ordinal).ToList();
    }

    /// <summary>Pending orders, and open ones the matcher has not sequenced, placed before <paramref name="placedBefore"/>.</summary>
    public async Task<IReadOnlyList<(MarketOrder Order, ETag ETag)>> UnsequencedAsync(DateTimeOffset placedBefore, CancellationToken cancellationToken)
    {
        var found = new List<(MarketOrder, ETag)>();
        var filter = $"Status eq '{OrderStatus.Pending}' or (Status eq '{OrderStatus.Open}' and Sequenced eq false)";
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            var order = DocumentRows.Read<MarketOrder>(row);
            if (order.PlacedAt < placedBefore) found.Add((order, row.ETag));
        }
        return found;
    }

    private static TableEntity Entity(MarketOrder order)
    {
        var entity = DocumentRows.Entity(order.Participant, order.OrderId, order);
        entity["Status"] = order.Status.ToString();
        entity["Sequenced"] = order.Sequence is not null;
        return entity;
    }
}
