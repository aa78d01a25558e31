using BeijingEts.Domain.Lists;

namespace BeijingEts.Functions.Lists;

/// <summary>
/// The unitchanges table: one partition, a row per change keyed by its id, and an "open-{uscc}" row while a unit's
/// merger or split awaits its confirmations, so a unit has one open at a time (as with removals).
/// </summary>
public sealed class UnitChangeStore(StorageClients storage)
{
    private const string Partition = "change";

    private TableClient Table => storage.Table(StorageNames.Tables.UnitChanges);

    public async Task<(UnitChange Change, ETag ETag)?> FindAsync(string id, CancellationToken cancellationToken)
    {
        if (!PlatformIds.IsValid(id)) return null; // ids are made here; anything else (a guard row, an odd key) is no change
        var row = await Table.GetEntityIfExistsAsync<TableEntity>(Partition, id, cancellationToken: cancellationToken);
        return row.HasValue ? (DocumentRows.Read<UnitChange>(row.Value!), row.Value!.ETag) : null;
    }

    /// <summary>A unit's changes, newest first.</summary>
    public async Task<IReadOnlyList<UnitChange>> ForUnitAsync(string uscc, CancellationToken cancellationToken) =>
        (await QueryAsync(TableClient.CreateQueryFilter($"PartitionKey eq {Partition} and Uscc eq {uscc}"), cancellationToken))
            .OrderByDescending(c => c.SubmittedOn).ThenByDescending(c => c.RequestedAt).ToList();

    /// <summary>Every merger and split the regulator confirmed: few, read whole for the obligations that passed.</summary>
    public Task<IReadOnlyList<UnitChange>> ConfirmedSuccessionsAsync(CancellationToken cancellationToken) =>
        QueryAsync(TableClient.CreateQueryFilter($"PartitionKey eq {Partition} and State eq {UnitChangeStates.Confirmed}"), cancellationToken);

    /// <summary>A rename, recorded as it takes effect.</summary>
    public Task AddAsync(UnitChange change, CancellationToken cancellationToken) => Table.AddEntityAsync(ToEntity(change), cancellationToken);

    /// <summary>Adds an open merger or split with its unit's "open" row in one transaction; if one is open already, returns its id.</summary>
    public async Task<string?> TryAddOpenAsync(UnitChange change, CancellationToken cancellationToken)
    {
        try
        {
            await Table.SubmitTransactionAsync(
            [
                new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(Partition, OpenKey(change.Uscc)) { ["ChangeId"] = change.Id }),
                new TableTransactionAction(TableTransactionActionType.Add, ToEntity(change)),
            ], cancellationToken);
            return null;
        }
        catch (TableTransactionFailedException error) when (error.Status == 409)
        {
            var open = await Table.GetEntityIfExistsAsync<TableEntity>(Partition, OpenKey(change.Uscc), cancellationToken: cancellationToken);
            return open.HasValue ? open.Value!.GetString("ChangeId") : "(just registered)";
        }
    }

    /// <summary>Saves a decision read with <paramref name="etag"/> (412 if it changed since); a closed change drops its unit's open row in the same transaction.</summary>
    public async Task ReplaceAsync(UnitChange change, ETag etag, CancellationToken cancellationToken)
    {
        var actions = new List<TableTransactionAction> { new(TableTransactionActionType.UpdateReplace, ToEntity(change), etag) };
        if (!UnitChangeStates.IsOpen(change.State))
        {
            actions.Add(new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(Partition, OpenKey(change.Uscc)), ETag.All));
        }
        await Table.SubmitTransactionAsync(actions, cancellationToken);
    }

    /// <summary>Confirmed changes not yet marked as having taken effect, confirmed before <paramref name="before"/>: ones whose confirmation may have stopped.</summary>
    public async Task<IReadOnlyList<UnitChange>> AwaitingEffectAsync(DateTimeOffset before, CancellationToken cancellationToken) =>
        (await QueryAsync(TableClient.CreateQueryFilter($"PartitionKey eq {Partition} and AwaitsEffect eq {true}"), cancellationToken))
            .Where(c => c.ConfirmedAt < before).ToList();

    /// <summary>Records that a confirmed change has taken effect; a 412 means it changed since it was read.</summary>
    public Task MarkAsync(UnitChange change, ETag etag, CancellationToken cancellationToken) =>
        Table.UpdateEntityAsync(ToEntity(change), etag, TableUpdateMode.Replace, cancellationToken);

    private async Task<IReadOnlyList<UnitChange>> QueryAsync(string filter, CancellationToken cancellationToken)
    {
        var changes = new List<UnitChange>();
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken)) changes.Add(DocumentRows.Read<UnitChange>(row));
        return changes;
    }

    private static string OpenKey(string uscc) => "open-" + uscc;

    private static TableEntity ToEntity(UnitChange change)
    {
        var entity = DocumentRows.Entity(Partition, change.Id, change);
        entity["Uscc"] = change.Uscc;
        entity["State"] = change.State;
        entity["AwaitsEffect"] = change.State == UnitChangeStates.Confirmed && change.EffectTakenAt is null;
        return entity;
    }
}
