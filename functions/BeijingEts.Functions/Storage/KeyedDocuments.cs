namespace BeijingEts.Functions.Storage;

/// <summary>
/// Records of one kind in one partition, each keyed by its platform id (<see cref="PlatformIds"/>), with the fields a
/// list filters on copied into columns so the query does the filtering: how applications and other few-a-year records
/// are kept. Writes are create-only or under the ETag read.
/// </summary>
public sealed class KeyedDocuments<T>(TableClient table, string partition, Func<T, string> key, Func<T, IEnumerable<(string Column, object Value)>> columns)
{
    private TableEntity Entity(T document)
    {
        var entity = DocumentRows.Entity(partition, key(document), document);
        foreach (var (column, value) in columns(document)) entity[column] = value;
        return entity;
    }

    /// <summary>The record and its ETag; null for a missing one or an id that is not a platform id.</summary>
    public async Task<(T Document, ETag ETag)?> FindAsync(string id, CancellationToken cancellationToken)
    {
        if (!PlatformIds.IsValid(id)) return null;
        var row = await table.GetEntityIfExistsAsync<TableEntity>(partition, id, cancellationToken: cancellationToken);
        return row.HasValue ? (DocumentRows.Read<T>(row.Value!), row.Value!.ETag) : null;
    }

    public Task AddAsync(T document, CancellationToken cancellationToken) => table.AddEntityAsync(Entity(document), cancellationToken);

    /// <summary>Adds the record unless its id is taken; false then.</summary>
    public Task<bool> TryAddAsync(T document, CancellationToken cancellationToken) => table.TryWriteAsync(Entity(document), null, cancellationToken);

    /// <summary>Writes the record if it is unchanged since read; false when someone else changed it first.</summary>
    public Task<bool> TryReplaceAsync(T document, ETag etag, CancellationToken cancellationToken) => table.TryWriteAsync(Entity(document), etag, cancellationToken);

    /// <summary>The records whose columns equal the given values (a null value filters nothing).</summary>
    public Task<IReadOnlyList<T>> QueryAsync(IEnumerable<(string Column, object? Value)> equal, CancellationToken cancellationToken) =>
        table.QueryDocumentsAsync<T>(partition, equal, cancellationToken);
}
