namespace BeijingEts.Functions.Lists;

/// <summary>A request to take a key unit off the list (Art. 9), confirmed first by its district bureau, then the regulator.</summary>
public sealed record Removal(
    string Id,
    string Uscc,
    string District,
    string Reason,
    DateOnly EffectiveOn,
    string Explanation,
    string State,
    string RequestedBy,
    DateTimeOffset RequestedAt,
    string? DistrictConfirmedBy = null,
    DateTimeOffset? DistrictConfirmedAt = null,
    string? ConfirmedBy = null,
    DateTimeOffset? ConfirmedAt = null,
    DateOnly? AccountCancellationDeadline = null,
    int? ReclaimPreAllocationYear = null,
    string? RejectionReason = null,
    string? ReclaimTransactionId = null);

public static class RemovalState
{
    public const string PendingDistrict = "pending-district-confirmation";
    public const string PendingRegulator = "pending-regulator-confirmation";
    public const string Confirmed = "confirmed";
    public const string Rejected = "rejected";

    public static bool IsOpen(string state) => state is PendingDistrict or PendingRegulator;
}

public sealed class RemovalStore(StorageClients storage)
{
    private const string Partition = "removal";

    private TableClient Table => storage.Table(StorageNames.Tables.Removals);

    public async Task<(Removal Removal, ETag ETag)?> FindAsync(string id, CancellationToken cancellationToken)
    {
        if (!PlatformIds.IsValid(id)) return null; // the "open" guard rows share the partition; no caller reads them as removals
        var row = await Table.GetEntityIfExistsAsync<TableEntity>(Partition, id, cancellationToken: cancellationToken);
        return row.HasValue ? (JsonSerializer.Deserialize<Removal>(row.Value!.GetString("Document"))!, row.Value.ETag) : null;
    }

    /// <summary>
    /// Adds a removal with a per-unit "open" row in the same partition, in one transaction: a second open removal of
    /// the same unit fails, and its id is returned instead.
    /// </summary>
    public async Task<string?> TryAddAsync(Removal removal, CancellationToken cancellationToken)
    {
        try
        {
            await Table.SubmitTransactionAsync(
            [
                new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(Partition, OpenKey(removal.Uscc)) { ["RemovalId"] = removal.Id }),
                new TableTransactionAction(TableTransactionActionType.Add, ToEntity(removal)),
            ], cancellationToken);
            return null;
        }
        catch (TableTransactionFailedException error) when (error.Status == 409)
        {
            var open = await Table.GetEntityIfExistsAsync<TableEntity>(Partition, OpenKey(removal.Uscc), cancellationToken: cancellationToken);
            return open.HasValue ? open.Value!.GetString("RemovalId") : "(just requested)";
        }
    }

    /// <summary>Saves a decision; once a removal is closed (confirmed or rejected) its unit's open row goes in the same transaction.</summary>
    public async Task ReplaceAsync(Removal removal, ETag etag, CancellationToken cancellationToken)
    {
        var actions = new List<TableTransactionAction> { new(TableTransactionActionType.UpdateReplace, ToEntity(removal), etag) };
        if (!RemovalState.IsOpen(removal.State))
        {
            actions.Add(new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(Partition, OpenKey(removal.Uscc)), ETag.All));
        }
        await Table.SubmitTransactionAsync(actions, cancellationToken);
    }

    private static string OpenKey(string uscc) => "open-" + uscc;

    private static TableEntity ToEntity(Removal removal) => new(Partition, removal.Id)
    {
        ["Uscc"] = removal.Uscc,
        ["State"] = removal.State,
        ["Document"] = JsonSerializer.Serialize(removal),
    };
}
