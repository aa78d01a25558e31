using BeijingEts.Domain.Ledger;
using BeijingEts.Functions.Lists;

namespace BeijingEts.Functions.Ledger;

/// <summary>
/// Which accounts exist: the regulator's four, and one holding account per registered unit and per voluntary
/// participant, addressed by its USCC. An account is open from registration; its ledger rows appear on first use.
/// </summary>
public sealed class AccountDirectory(UnitStore units, ParticipantStore participants)
{
    // Accounts are never deleted, so once seen an account is known to exist.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _known = new(StringComparer.Ordinal);

    public async Task<bool> ExistsAsync(string? account, CancellationToken cancellationToken)
    {
        if (account is null) return false;
        if (RegulatorAccounts.Is(account) || _known.ContainsKey(account)) return true;
        var exists = Domain.Lists.Uscc.TryParse(account, out var uscc, out _) && uscc.Value == account
            && (await units.FindAsync(account, cancellationToken) is not null || await participants.FindAsync(account, cancellationToken) is not null);
        if (exists) _known[account] = true;
        return exists;
    }
}

public sealed record Participant(string Uscc, string Name, DateTimeOffset RegisteredAt);

/// <summary>Voluntary participants (自愿参与交易的单位, Art. 13): not on the list, but holding an account.</summary>
public sealed class ParticipantStore(StorageClients storage)
{
    private const string Partition = "participant";

    private TableClient Table => storage.Table(StorageNames.Tables.Participants);

    public async Task<Participant?> FindAsync(string uscc, CancellationToken cancellationToken)
    {
        var row = await Table.GetEntityIfExistsAsync<TableEntity>(Partition, uscc, cancellationToken: cancellationToken);
        return row.HasValue ? new Participant(uscc, row.Value!.GetString("Name"), row.Value.GetDateTimeOffset("RegisteredAt") ?? default) : null;
    }

    public Task PutAsync(Participant participant, CancellationToken cancellationToken) =>
        Table.UpsertEntityAsync(new TableEntity(Partition, participant.Uscc) { ["Name"] = participant.Name, ["RegisteredAt"] = participant.RegisteredAt },
            TableUpdateMode.Replace, cancellationToken);
}

/// <summary>The cap of a vintage once the regulator has set that year's allocation plan; issuance never goes beyond it.</summary>
public sealed class IssuanceCaps(StorageClients storage)
{
    public async Task<Tonnes?> CapAsync(int vintage, CancellationToken cancellationToken)
    {
        var row = await storage.Table(StorageNames.Tables.AllocationPlans).GetEntityIfExistsAsync<TableEntity>(
            "plan", DocumentRows.YearKey(vintage), select: ["Cap"], cancellationToken: cancellationToken);
        return row.HasValue && row.Value!.GetInt64("Cap") is { } cap ? new Tonnes(cap) : null;
    }
}
