namespace BeijingEts.Functions.Ledger;

public static class LedgerServices
{
    public static IServiceCollection AddLedger(this IServiceCollection services)
    {
        services.AddSingleton<LedgerStore>();
        services.AddSingleton<TransactionStore>();
        services.AddSingleton<ParticipantStore>();
        services.AddSingleton<AccountDirectory>();
        services.AddSingleton<IssuanceCaps>();
        services.AddSingleton<LedgerSettlement>();
        services.AddSingleton<LedgerSubmitter>();
        services.AddSingleton<LedgerFaults>();
        services.AddSingleton<AccountCloser>();
        services.AddSingleton<AccountApplicationStore>();
        services.AddSingleton<PersonalData>();
        return services;
    }
}
