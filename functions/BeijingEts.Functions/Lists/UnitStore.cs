namespace BeijingEts.Functions.Lists;

/// <summary>A registered unit: who it is, where, in which industry, and where it stands on the list.</summary>
public sealed record UnitRecord(
    string Uscc,
    string Name,
    string District,
    string Industry,
    bool NationalEts,
    DateTimeOffset RegisteredAt,
    DateTimeOffset UpdatedAt,
    string Status = UnitStatus.Active,
    DateOnly? RemovedOn = null,
    DateOnly? AccountCancellationDeadline = null,
    IReadOnlyList<string>? Successors = null);

public static class UnitStatus
{
    public const string Active = "active";
    /// <summary>Removed from the key-unit list (Art. 9); its account must be cancelled within three years.</summary>
    public const string Removed = "removed";
    /// <summary>Merged into or split into successors (Art. 8); its obligations moved to them.</summary>
    public const string Succeeded = "succeeded";
}

/// <summary>The units table: one partition, keyed by USCC, read whole when a list is published.</summary>
public sealed class UnitStore(StorageClients storage)
{
    private const string Partition = "unit";
    private const int RecentUnits = 50_000;

    private readonly RecentReads<string, UnitRecord> _recent = new(PublishedListStore.RecentFor, RecentUnits);

    private TableClient Table => storage.Table(StorageNames.Tables.Units);

    public async Task<(UnitRecord Unit, ETag ETag)?> FindAsync(string uscc, CancellationToken cancellationToken)
    {
        var row = await Table.GetEntityIfExistsAsync<TableEntity>(Partition, uscc, cancellationToken: cancellationToken);
        return row.HasValue ? (FromEntity(row.Value!), row.Value!.ETag) : null;
    }

    /// <summary>
    /// The unit as read within <see cref="PublishedListStore.RecentFor"/>: a change written on this instance is seen at
    /// once, one written on another within that time, and a unit just registered at once (an unknown unit is not kept).
    /// Only for a caller that can take a district that is that old (who may call is decided by the token, not the row).
    /// </summary>
    public Task<UnitRecord?> RecentAsync(string uscc, CancellationToken cancellationToken) =>
        _recent.GetAsync(uscc, async ct => (await FindAsync(uscc, ct))?.Unit, cancellationToken);

    /// <summary>Adds a new unit; false when it already exists.</summary>
    public async Task<bool> TryAddAsync(UnitRecord unit, CancellationToken cancellationToken)
    {
        try
        {
            await Table.AddEntityAsync(ToEntity(unit), cancellationToken);
            return true;
        }
        catch (RequestFailedException error) when (error.Status == 409)
        {
            return false;
        }
    }

    /// <summary>Replaces a unit read with <paramref name="etag"/>; a 412 means someone changed it since.</summary>
    public async Task ReplaceAsync(UnitRecord unit, ETag etag, CancellationToken cancellationToken)
    {
        try
        {
            await Table.UpdateEntityAsync(ToEntity(unit), etag, TableUpdateMode.Replace, cancellationToken);
        }
        finally
        {
            _recent.Forget(unit.Uscc); // also when it failed: it may have been written all the same
        }
    }

    public async Task<IReadOnlyDictionary<string, UnitRecord>> ReadAllAsync(CancellationToken cancellationToken)
    {
        var units = new Dictionary<string, UnitRecord>(StringComparer.Ordinal);
        await foreach (var row in Table.QueryAsync<TableEntity>(r => r.PartitionKey == Partition, cancellationToken: cancellationToken))
        {
            units[row.RowKey] = FromEntity(row);
        }
        return units;
    }

    /// <summary>Writes many new or changed units in entity-group batches of 100.</summary>
    public async Task UpsertManyAsync(IEnumerable<UnitRecord> units, CancellationToken cancellationToken)
    {
        var written = units.ToList();
        try
        {
            await TableBatches.UpsertAsync(Table, written.Select(ToEntity), cancellationToken);
        }
        finally
        {
            foreach (var unit in written) _recent.Forget(unit.Uscc);
        }
    }

    internal static TableEntity ToEntity(UnitRecord unit)
    {
        var entity = new TableEntity(Partition, unit.Uscc)
        {
            ["Name"] = unit.Name,
            ["District"] = unit.District,
            ["Industry"] = unit.Industry,
            ["NationalEts"] = unit.NationalEts,
            ["RegisteredAt"] = unit.RegisteredAt,
            ["UpdatedAt"] = unit.UpdatedAt,
            ["Status"] = unit.Status,
        };
        // Rows are replaced whole, so a property left out is one that has no value.
        if (unit.RemovedOn is { } removedOn) entity["RemovedOn"] = removedOn.ToString("O");
        if (unit.AccountCancellationDeadline is { } deadline) entity["AccountCancellationDeadline"] = deadline.ToString("O");
        if (unit.Successors is { Count: > 0 } successors) entity["Successors"] = string.Join(",", successors);
        return entity;
    }

    private static UnitRecord FromEntity(TableEntity row) => new(
        row.RowKey,
        row.GetString("Name"),
        row.GetString("District"),
        row.GetString("Industry"),
        row.GetBoolean("NationalEts") ?? false,
        row.GetDateTimeOffset("RegisteredAt") ?? default,
        row.GetDateTimeOffset("UpdatedAt") ?? default,
        row.GetString("Status") ?? UnitStatus.Active,
        ParseDate(row.GetString("RemovedOn")),
        ParseDate(row.GetString("AccountCancellationDeadline")),
        row.GetString("Successors")?.Split(',', StringSplitOptions.RemoveEmptyEntries));

    private static DateOnly? ParseDate(string? text) =>
        text is null ? null : DateOnly.ParseExact(text, "O", System.Globalization.CultureInfo.InvariantCulture);
}
