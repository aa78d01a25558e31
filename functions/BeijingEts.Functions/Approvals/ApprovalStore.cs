using System.Text.RegularExpressions;
using BeijingEts.Domain.Approvals;

namespace BeijingEts.Functions.Approvals;

/// <summary>A proposal as stored: the proposal, the action's validated input (JSON) and what makes two submissions the same.</summary>
public sealed record StoredProposal(Proposal Proposal, string Payload, string ContentKey, ETag ETag);

/// <summary>The approvals table: one row per proposal, with a Status column to list the pending ones.</summary>
public sealed partial class ApprovalStore(StorageClients storage)
{
    private const string Partition = "proposal";

    private TableClient Table => storage.Table(StorageNames.Tables.Approvals);

    public async Task<StoredProposal?> FindAsync(string id, CancellationToken cancellationToken)
    {
        if (!IdPattern().IsMatch(id)) return null; // never a key: a table refuses '/', '#', '?' and control characters
        var row = await Table.GetEntityIfExistsAsync<TableEntity>(Partition, id, cancellationToken: cancellationToken);
        return row.HasValue ? Read(row.Value!) : null;
    }

    /// <summary>Adds the proposal; if its id is taken, returns the one stored under it.</summary>
    public async Task<StoredProposal?> TryAddAsync(Proposal proposal, string payload, string contentKey, CancellationToken cancellationToken)
    {
        if (await Table.TryWriteAsync(ToEntity(proposal, payload, contentKey), null, cancellationToken)) return null;
        return await FindAsync(proposal.Id, cancellationToken);
    }

    /// <summary>Writes a new state of a proposal if nobody changed it since <paramref name="read"/>; false if someone did.</summary>
    public Task<bool> TryReplaceAsync(StoredProposal read, Proposal changed, CancellationToken cancellationToken) =>
        Table.TryWriteAsync(ToEntity(changed, read.Payload, read.ContentKey), read.ETag, cancellationToken);

    public async Task<IReadOnlyList<StoredProposal>> ListAsync(ProposalStatus? status, CancellationToken cancellationToken)
    {
        var filter = status is { } wanted
            ? TableClient.CreateQueryFilter($"PartitionKey eq {Partition} and Status eq {Name(wanted)}")
            : TableClient.CreateQueryFilter($"PartitionKey eq {Partition}");
        var found = new List<StoredProposal>();
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken)) found.Add(Read(row));
        return [.. found.OrderBy(p => p.Proposal.ProposedAt)];
    }

    [GeneratedRegex("^[A-Za-z0-9._:-]{1,120}$")]
    private static partial Regex IdPattern();

    public static string Name(ProposalStatus status) => JsonNamingPolicy.KebabCaseLower.ConvertName(status.ToString());

    private static TableEntity ToEntity(Proposal proposal, string payload, string contentKey)
    {
        var entity = DocumentRows.Entity(Partition, proposal.Id, proposal);
        entity["Status"] = Name(proposal.Status);
        entity["Kind"] = proposal.Kind;
        entity["Payload"] = payload;
        entity["ContentKey"] = contentKey;
        return entity;
    }

    private static StoredProposal Read(TableEntity row) =>
        new(DocumentRows.Read<Proposal>(row), row.GetString("Payload"), row.GetString("ContentKey") ?? "", row.ETag);
}
